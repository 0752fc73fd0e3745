package x11fwd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var (
	fakeCookie = []byte("FAKEfakeFAKEfake")
	realCookie = []byte("REALrealREALreal")
)

// buildSetup encodes a setup request by hand. Padding bytes are filled
// with 0xAA so tests notice if they are mistaken for name or data.
func buildSetup(order byte, name string, data []byte) []byte {
	var bo binary.ByteOrder = binary.BigEndian
	if order == 'l' {
		bo = binary.LittleEndian
	}
	b := make([]byte, 12, 12+pad4(len(name))+pad4(len(data)))
	b[0] = order
	b[1] = 0xAA
	bo.PutUint16(b[2:], 11) // protocol major
	bo.PutUint16(b[4:], 0)  // protocol minor
	bo.PutUint16(b[6:], uint16(len(name)))
	bo.PutUint16(b[8:], uint16(len(data)))
	b[10], b[11] = 0xAA, 0xAA
	pad := func(n int) []byte { return bytes.Repeat([]byte{0xAA}, pad4(n)-n) }
	b = append(b, name...)
	b = append(b, pad(len(name))...)
	b = append(b, data...)
	b = append(b, pad(len(data))...)
	return b
}

func TestPad4(t *testing.T) {
	for in, want := range map[int]int{0: 0, 1: 4, 3: 4, 4: 4, 5: 8, 16: 16, 18: 20, 65535: 65536} {
		if got := pad4(in); got != want {
			t.Errorf("pad4(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestX11SetupLen(t *testing.T) {
	tests := []struct {
		name    string
		buf     []byte
		want    int
		wantErr bool
	}{
		{"empty", nil, 0, false},
		{"one byte MSB", []byte{'B'}, 0, false},
		{"one byte LSB", []byte{'l'}, 0, false},
		{"eleven bytes", buildSetup('B', mitCookie, fakeCookie)[:11], 0, false},
		{"MSB cookie", buildSetup('B', mitCookie, fakeCookie), 12 + 20 + 16, false},
		{"LSB cookie", buildSetup('l', mitCookie, fakeCookie), 12 + 20 + 16, false},
		{"MSB header only", buildSetup('B', mitCookie, fakeCookie)[:12], 48, false},
		{"LSB header only", buildSetup('l', mitCookie, fakeCookie)[:12], 48, false},
		{"no auth", buildSetup('B', "", nil), 12, false},
		{"odd lengths MSB", buildSetup('B', "abcde", []byte{1, 2, 3}), 12 + 8 + 4, false},
		{"odd lengths LSB", buildSetup('l', "abcde", []byte{1, 2, 3}), 12 + 8 + 4, false},
		{"at limit", []byte{'B', 0, 0, 11, 0, 0, 0x80, 0x00, 0x80, 0x00, 0, 0}, 12 + 65536, false},
		{"over limit", []byte{'B', 0, 0, 11, 0, 0, 0x80, 0x00, 0x80, 0x01, 0, 0}, 0, true},
		{"max lengths", []byte{'l', 0, 11, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0}, 0, true},
		{"bad order byte", []byte{'b', 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{"bad order byte short", []byte{0x00}, 0, true},
		{"L is not l", []byte{'L'}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetupLen(tt.buf)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SetupLen error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("SetupLen = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestX11SetupLenByteOrderMatters(t *testing.T) {
	// Name length 0x0001 read MSB first is 1, LSB first is 256.
	hdr := []byte{0, 0, 0, 11, 0, 0, 0x00, 0x01, 0x00, 0x00, 0, 0}
	hdr[0] = 'B'
	if got, _ := SetupLen(hdr); got != 12+4 {
		t.Errorf("MSB: SetupLen = %d, want %d", got, 12+4)
	}
	hdr[0] = 'l'
	if got, _ := SetupLen(hdr); got != 12+256 {
		t.Errorf("LSB: SetupLen = %d, want %d", got, 12+256)
	}
}

func TestCheckAndSwapCookie(t *testing.T) {
	tests := []struct {
		name      string
		buf       []byte
		wrongAuth bool   // want an error wrapping ErrWrongAuth
		otherErr  bool   // want some other error
		msg       string // substring of the error message
	}{
		{"MSB good", buildSetup('B', mitCookie, fakeCookie), false, false, ""},
		{"LSB good", buildSetup('l', mitCookie, fakeCookie), false, false, ""},
		{"good with trailing bytes", append(buildSetup('B', mitCookie, fakeCookie), 1, 2, 3), false, false, ""},
		{"wrong cookie MSB", buildSetup('B', mitCookie, []byte("FAKEfakeFAKEfakf")), true, false, "cookie does not match"},
		{"wrong cookie LSB", buildSetup('l', mitCookie, []byte("fAKEfakeFAKEfake")), true, false, ""},
		{"real cookie instead of fake", buildSetup('B', mitCookie, realCookie), true, false, ""},
		{"no cookie", buildSetup('B', "", nil), true, false, "no authentication"},
		{"no cookie LSB", buildSetup('l', "", nil), true, false, "no authentication"},
		{"name but no data", buildSetup('B', mitCookie, nil), true, false, "cookie is 0 bytes, expected 16"},
		{"data but no name", buildSetup('B', "", fakeCookie), true, false, "unexpected authentication protocol"},
		{"wrong protocol name", buildSetup('B', "XDM-AUTHORIZATION-1", fakeCookie), true, false, "unexpected authentication protocol"},
		{"protocol name prefix", buildSetup('B', "MIT-MAGIC-COOKIE-", fakeCookie), true, false, "unexpected authentication protocol"},
		{"protocol name case", buildSetup('B', "mit-magic-cookie-1", fakeCookie), true, false, ""},
		{"cookie too short", buildSetup('B', mitCookie, fakeCookie[:15]), true, false, "cookie is 15 bytes, expected 16"},
		{"cookie too long", buildSetup('l', mitCookie, append(bytes.Clone(fakeCookie), 'x')), true, false, "cookie is 17 bytes, expected 16"},
		{"bad byte order", append([]byte{'X'}, buildSetup('B', mitCookie, fakeCookie)[1:]...), false, true, "bad byte-order byte 0x58"},
		{"incomplete", buildSetup('B', mitCookie, fakeCookie)[:47], false, true, "incomplete (47 bytes)"},
		{"header only", buildSetup('B', mitCookie, fakeCookie)[:12], false, true, ""},
		{"short header", buildSetup('B', mitCookie, fakeCookie)[:5], false, true, ""},
		{"empty", nil, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := bytes.Clone(tt.buf)
			err := CheckAndSwapCookie(buf, mitCookie, fakeCookie, realCookie)
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			switch {
			case tt.wrongAuth:
				if !errors.Is(err, ErrWrongAuth) {
					t.Fatalf("error = %v, want one wrapping ErrWrongAuth", err)
				}
			case tt.otherErr:
				if err == nil || errors.Is(err, ErrWrongAuth) {
					t.Fatalf("error = %v, want a non-auth error", err)
				}
			default:
				if err != nil {
					t.Fatalf("CheckAndSwapCookie: %v", err)
				}
			}
			if err != nil {
				if !bytes.Equal(buf, tt.buf) {
					t.Fatalf("buffer modified on error:\n got %x\nwant %x", buf, tt.buf)
				}
				return
			}
			// The data field now holds the real cookie and nothing else changed.
			want := bytes.Clone(tt.buf)
			off := 12 + pad4(len(mitCookie))
			copy(want[off:], realCookie)
			if !bytes.Equal(buf, want) {
				t.Fatalf("after swap:\n got %x\nwant %x", buf, want)
			}
			if !bytes.Equal(buf[off:off+16], realCookie) {
				t.Fatalf("data field = %q, want %q", buf[off:off+16], realCookie)
			}
		})
	}
}

func TestCheckAndSwapCookieOddLengths(t *testing.T) {
	// Name and data lengths that both need padding, in both byte orders.
	for _, order := range []byte{'B', 'l'} {
		fake, real := []byte("abcde"), []byte("vwxyz")
		buf := buildSetup(order, "P1", fake)
		if len(buf) != 12+4+8 {
			t.Fatalf("buildSetup length %d, want 24", len(buf))
		}
		if err := CheckAndSwapCookie(buf, "P1", fake, real); err != nil {
			t.Fatalf("order %q: CheckAndSwapCookie: %v", order, err)
		}
		if got := buf[16:21]; !bytes.Equal(got, real) {
			t.Fatalf("order %q: data = %q, want %q", order, got, real)
		}
		if !bytes.Equal(buf[21:24], []byte{0xAA, 0xAA, 0xAA}) {
			t.Fatalf("order %q: padding changed: %x", order, buf[21:24])
		}
	}
}

func TestCheckAndSwapCookieBadArguments(t *testing.T) {
	buf := buildSetup('B', mitCookie, fakeCookie)
	orig := bytes.Clone(buf)
	if err := CheckAndSwapCookie(buf, mitCookie, fakeCookie, realCookie[:15]); err == nil || errors.Is(err, ErrWrongAuth) {
		t.Errorf("real shorter than fake: error = %v, want a non-auth error", err)
	}
	if err := CheckAndSwapCookie(buf, mitCookie, fakeCookie, append(bytes.Clone(realCookie), 0)); err == nil {
		t.Errorf("real longer than fake: no error")
	}
	// An empty fake cookie must never let an unauthenticated client in.
	noAuth := buildSetup('B', "", nil)
	if err := CheckAndSwapCookie(noAuth, "", nil, nil); err == nil {
		t.Errorf("empty fake cookie, no auth: no error")
	}
	emptyData := buildSetup('B', mitCookie, nil)
	if err := CheckAndSwapCookie(emptyData, mitCookie, nil, nil); err == nil {
		t.Errorf("empty fake cookie, right protocol and empty data: no error")
	}
	if !bytes.Equal(buf, orig) {
		t.Errorf("buffer modified: %x", buf)
	}
}

func TestCheckAndSwapCookieErrorText(t *testing.T) {
	err := CheckAndSwapCookie(buildSetup('B', mitCookie, realCookie), mitCookie, fakeCookie, realCookie)
	if err == nil || !strings.HasPrefix(err.Error(), "X11 connection rejected because of wrong authentication") {
		t.Fatalf("error = %v, want it to start with the ErrWrongAuth text", err)
	}
	if strings.Contains(err.Error(), string(realCookie)) || strings.Contains(err.Error(), string(fakeCookie)) {
		t.Fatalf("error leaks a cookie: %v", err)
	}

	// A wrong protocol is named, but a huge one is cut short.
	err = CheckAndSwapCookie(buildSetup('B', "XDM-AUTHORIZATION-1", fakeCookie), mitCookie, fakeCookie, realCookie)
	if err == nil || !strings.Contains(err.Error(), `"XDM-AUTHORIZATION-1"`) {
		t.Fatalf("error = %v, want it to name the protocol", err)
	}
	err = CheckAndSwapCookie(buildSetup('B', strings.Repeat("N", 1000), fakeCookie), mitCookie, fakeCookie, realCookie)
	if !errors.Is(err, ErrWrongAuth) {
		t.Fatalf("long protocol name: error = %v, want ErrWrongAuth", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"`+strings.Repeat("N", 64)+`"`) {
		t.Fatalf("long protocol name: error %q does not show exactly the first 64 bytes", msg)
	}
}

func TestReadX11Setup(t *testing.T) {
	tests := []struct {
		name  string
		setup []byte
		extra []byte
	}{
		{"MSB", buildSetup('B', mitCookie, fakeCookie), nil},
		{"LSB", buildSetup('l', mitCookie, fakeCookie), nil},
		{"MSB with extra", buildSetup('B', mitCookie, fakeCookie), []byte("more requests")},
		{"LSB with extra", buildSetup('l', mitCookie, fakeCookie), []byte{0x42, 0, 1, 2, 3}},
		{"no auth with extra", buildSetup('l', "", nil), []byte{9, 9}},
		{"odd lengths", buildSetup('B', "abcde", []byte{1, 2, 3}), []byte{7}},
		{"large extra", buildSetup('B', mitCookie, fakeCookie), bytes.Repeat([]byte{5}, 10000)},
		{"large auth", buildSetup('l', strings.Repeat("n", 30000), bytes.Repeat([]byte{3}, 30001)), []byte{1}},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				stream := append(bytes.Clone(tt.setup), tt.extra...)
				setup, extra, err := ReadSetup(rd.wrap(bytes.NewReader(stream)))
				if err != nil {
					t.Fatalf("ReadSetup: %v", err)
				}
				if !bytes.Equal(setup, tt.setup) {
					t.Fatalf("setup = %d bytes %x..., want %d bytes", len(setup), setup[:min(len(setup), 16)], len(tt.setup))
				}
				// Whatever was read past the setup is returned, and is a
				// prefix of what followed it.
				if !bytes.HasPrefix(tt.extra, extra) {
					t.Fatalf("extra = %x, not a prefix of %x", extra, tt.extra)
				}
				if rd.name == "one byte at a time" && len(extra) != 0 {
					t.Fatalf("one byte at a time: extra = %x, want none", extra)
				}
				if rd.name == "whole" && len(tt.setup) < x11ReadChunk {
					// A single Read delivers the setup and the start of what follows.
					want := tt.extra[:min(len(tt.extra), x11ReadChunk-len(tt.setup))]
					if !bytes.Equal(extra, want) {
						t.Fatalf("whole: extra = %d bytes, want %d", len(extra), len(want))
					}
				}
				if len(extra) == 0 && extra != nil {
					t.Errorf("extra is empty but not nil")
				}
				// setup and extra must not share memory: appending to setup
				// must not overwrite extra.
				if len(extra) > 0 {
					before := bytes.Clone(extra)
					_ = append(setup, 0xEE)
					if !bytes.Equal(extra, before) {
						t.Fatalf("appending to setup overwrote extra")
					}
				}
				// The setup read this way passes the cookie check.
				if bytes.HasPrefix(tt.setup[12:], []byte(mitCookie)) && bytes.Contains(tt.setup, fakeCookie) {
					if err := CheckAndSwapCookie(setup, mitCookie, fakeCookie, realCookie); err != nil {
						t.Fatalf("CheckAndSwapCookie on read setup: %v", err)
					}
				}
			})
		}
	}
}

// errReader returns its data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// zeroReader always returns 0, nil.
type zeroReader struct{ calls int }

func (r *zeroReader) Read([]byte) (int, error) { r.calls++; return 0, nil }

func TestReadX11SetupErrors(t *testing.T) {
	good := buildSetup('B', mitCookie, fakeCookie)
	overLimit := []byte{'l', 0, 11, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		wantIs  error  // error the result must wrap, if non-nil
		wantSub string // substring of the message
	}{
		{"empty stream", bytes.NewReader(nil), io.ErrUnexpectedEOF, "after 0 bytes"},
		{"truncated header", iotest.OneByteReader(bytes.NewReader(good[:7])), io.ErrUnexpectedEOF, "after 7 bytes"},
		{"truncated data", bytes.NewReader(good[:40]), io.ErrUnexpectedEOF, "after 40 bytes"},
		{"bad byte order", bytes.NewReader(append([]byte{'?'}, good[1:]...)), nil, "byte-order"},
		{"bad byte order first byte only", iotest.OneByteReader(io.MultiReader(bytes.NewReader([]byte{0}), &zeroReader{})), nil, "byte-order"},
		{"auth too large", bytes.NewReader(overLimit), nil, "more than the 65536 allowed"},
		{"auth too large byte at a time", iotest.OneByteReader(bytes.NewReader(overLimit)), nil, "more than the 65536 allowed"},
		{"read error", &errReader{data: good[:20], err: boom}, boom, "reading the setup request"},
		{"no progress", &zeroReader{}, io.ErrNoProgress, "reading the setup request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup, extra, err := ReadSetup(tt.r)
			if err == nil {
				t.Fatalf("ReadSetup = %x, %x, want error", setup, extra)
			}
			if setup != nil || extra != nil {
				t.Errorf("ReadSetup returned data with error: %x, %x", setup, extra)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not contain %q", err, tt.wantSub)
			}
		})
	}
}

// stutterReader returns one byte per Read, with gap (0, nil) reads before
// each byte.
type stutterReader struct {
	data []byte
	gap  int
	left int
}

func (r *stutterReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.left > 0 {
		r.left--
		return 0, nil
	}
	r.left = r.gap
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

func TestReadX11SetupToleratesEmptyReads(t *testing.T) {
	// Many (0, nil) reads in total are fine as long as bytes keep coming.
	want := buildSetup('B', mitCookie, fakeCookie)
	setup, extra, err := ReadSetup(&stutterReader{data: want, gap: maxEmptyReads - 1, left: maxEmptyReads - 1})
	if err != nil {
		t.Fatalf("ReadSetup: %v", err)
	}
	if !bytes.Equal(setup, want) || extra != nil {
		t.Fatalf("ReadSetup = %x, %x; want %x, nil", setup, extra, want)
	}
}

func TestReadX11SetupStopsAtBadByteOrder(t *testing.T) {
	// The byte-order check must happen on the first byte, without waiting
	// for (or reading) the rest of the header.
	r := &errReader{data: []byte{'Z'}, err: errors.New("read past the first byte")}
	_, _, err := ReadSetup(r)
	if err == nil || !strings.Contains(err.Error(), "byte-order") {
		t.Fatalf("error = %v, want a byte-order error", err)
	}
}

func FuzzX11Setup(f *testing.F) {
	f.Add(buildSetup('B', mitCookie, fakeCookie))
	f.Add(append(buildSetup('l', mitCookie, fakeCookie), "extra"...))
	f.Add(buildSetup('B', "", nil))
	f.Add(buildSetup('l', mitCookie, realCookie))
	f.Add([]byte{'B', 0, 0, 11})
	f.Fuzz(func(t *testing.T, b []byte) {
		need, lenErr := SetupLen(b)
		if lenErr == nil && need != 0 && (need < 12 || need > 12+maxX11AuthLen+6) {
			t.Fatalf("SetupLen = %d, out of range", need)
		}
		if lenErr == nil && need == 0 && len(b) >= 12 {
			t.Fatalf("SetupLen asks for more bytes with %d buffered", len(b))
		}

		buf := bytes.Clone(b)
		if err := CheckAndSwapCookie(buf, mitCookie, fakeCookie, realCookie); err == nil {
			if lenErr != nil || need == 0 || len(b) < need {
				t.Fatalf("CheckAndSwapCookie accepted a packet SetupLen rejects (need %d, err %v)", need, lenErr)
			}
			off := 12 + pad4(len(mitCookie))
			if !bytes.Equal(buf[off:off+len(realCookie)], realCookie) {
				t.Fatalf("data field after swap = %x, want %x", buf[off:off+len(realCookie)], realCookie)
			}
			if !bytes.Equal(b[off:off+len(fakeCookie)], fakeCookie) || string(b[12:12+len(mitCookie)]) != mitCookie {
				t.Fatalf("accepted a packet without the fake cookie: %x", b)
			}
			if !bytes.Equal(buf[:off], b[:off]) || !bytes.Equal(buf[off+len(realCookie):], b[off+len(realCookie):]) {
				t.Fatalf("swap changed bytes outside the data field")
			}
		} else if !bytes.Equal(buf, b) {
			t.Fatalf("buffer modified on error %v", err)
		}

		for _, r := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b))} {
			setup, extra, err := ReadSetup(r)
			if err != nil {
				if lenErr == nil && need != 0 && len(b) >= need {
					t.Fatalf("ReadSetup failed on a complete packet: %v", err)
				}
				continue
			}
			if lenErr != nil || need == 0 || len(setup) != need {
				t.Fatalf("ReadSetup returned %d bytes, SetupLen says %d (err %v)", len(setup), need, lenErr)
			}
			if got := append(bytes.Clone(setup), extra...); !bytes.HasPrefix(b, got) {
				t.Fatalf("setup+extra is not a prefix of the input")
			}
		}
	})
}
