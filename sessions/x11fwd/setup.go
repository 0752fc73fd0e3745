package x11fwd

// The X11 connection setup request, as it arrives on a forwarded X11
// channel: reading it whole, checking its fake cookie and swapping in the
// real one, as OpenSSH's x11_open_helper does.

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// x11SetupHeaderLen is the fixed part of the setup request.
	x11SetupHeaderLen = 12
	// maxX11AuthLen bounds the auth name and auth data lengths together.
	maxX11AuthLen = 64 << 10
	// x11ReadChunk is how much ReadSetup asks for per Read.
	x11ReadChunk = 4096
	// maxEmptyReads is how many (0, nil) reads in a row ReadSetup allows.
	maxEmptyReads = 100
)

// ErrWrongAuth is wrapped by the error CheckAndSwapCookie returns when
// the client did not present the expected fake cookie.
var ErrWrongAuth = errors.New("X11 connection rejected because of wrong authentication")

// pad4 rounds x up to a multiple of 4.
func pad4(x int) int { return (x + 3) &^ 3 }

// x11ByteOrder returns the byte order named by the first byte of a setup
// request: 'B' (0x42) is most significant byte first, 'l' (0x6C) least.
func x11ByteOrder(b byte) (binary.ByteOrder, error) {
	switch b {
	case 'B':
		return binary.BigEndian, nil
	case 'l':
		return binary.LittleEndian, nil
	}
	return nil, fmt.Errorf("x11: setup request has bad byte-order byte 0x%02x (want 0x42 or 0x6c)", b)
}

// x11AuthLens returns the auth name and auth data lengths of a setup
// request header. buf must hold at least 12 bytes and start with a valid
// byte-order byte.
func x11AuthLens(buf []byte) (n, d int) {
	var order binary.ByteOrder = binary.LittleEndian
	if buf[0] == 'B' {
		order = binary.BigEndian
	}
	return int(order.Uint16(buf[6:])), int(order.Uint16(buf[8:]))
}

// SetupLen reports how many bytes the complete setup request needs,
// given the bytes buffered so far: 12 + pad4(name length) + pad4(data
// length). need==0 with err==nil means "need more bytes (fewer than 12
// buffered)". It returns an error for a bad byte-order byte (checked as
// soon as one byte is buffered) and for an auth name and data longer than
// 64 KiB together.
func SetupLen(buf []byte) (need int, err error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := x11ByteOrder(buf[0]); err != nil {
		return 0, err
	}
	if len(buf) < x11SetupHeaderLen {
		return 0, nil
	}
	n, d := x11AuthLens(buf)
	if n+d > maxX11AuthLen {
		return 0, fmt.Errorf("x11: setup request auth name and data are %d bytes, more than the %d allowed", n+d, maxX11AuthLen)
	}
	return x11SetupHeaderLen + pad4(n) + pad4(d), nil
}

// CheckAndSwapCookie verifies that the complete setup request in buf
// (len(buf) >= SetupLen(buf)) carries auth name proto and auth data
// fake, exactly, and then overwrites the auth data in place with real.
// The data is compared in constant time, after the lengths. Any mismatch
// (no cookie, another protocol, another length, other bytes) returns an
// error wrapping ErrWrongAuth and leaves buf unchanged. fake must not
// be empty and real must be as long as fake.
func CheckAndSwapCookie(buf []byte, proto string, fake, real []byte) error {
	if len(fake) == 0 {
		return errors.New("x11: no fake cookie to check against")
	}
	if len(real) != len(fake) {
		return fmt.Errorf("x11: real cookie is %d bytes but fake cookie is %d bytes", len(real), len(fake))
	}
	need, err := SetupLen(buf)
	if err != nil {
		return err
	}
	if need == 0 || len(buf) < need {
		return fmt.Errorf("x11: setup request is incomplete (%d bytes)", len(buf))
	}
	n, d := x11AuthLens(buf)
	if n == 0 && d == 0 {
		return fmt.Errorf("%w: the client sent no authentication", ErrWrongAuth)
	}
	name := buf[x11SetupHeaderLen : x11SetupHeaderLen+n]
	if n != len(proto) || subtle.ConstantTimeCompare(name, []byte(proto)) != 1 {
		shown := name
		if len(shown) > 64 {
			shown = shown[:64]
		}
		return fmt.Errorf("%w: unexpected authentication protocol %q", ErrWrongAuth, shown)
	}
	off := x11SetupHeaderLen + pad4(n)
	data := buf[off : off+d]
	if d != len(fake) {
		return fmt.Errorf("%w: cookie is %d bytes, expected %d", ErrWrongAuth, d, len(fake))
	}
	if subtle.ConstantTimeCompare(data, fake) != 1 {
		return fmt.Errorf("%w: cookie does not match", ErrWrongAuth)
	}
	copy(data, real)
	return nil
}

// ReadSetup reads from r until a whole setup request is buffered,
// however it is split across reads, and returns it as setup together with
// any bytes read beyond it as extra (nil if none), which the caller must
// forward after the setup. A bad byte-order byte or an auth name and data
// longer than 64 KiB together is an error, as is the stream ending first
// (wrapping io.ErrUnexpectedEOF).
func ReadSetup(r io.Reader) (setup, extra []byte, err error) {
	buf := make([]byte, 0, x11ReadChunk)
	empty := 0
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, x11ReadChunk)...)[:len(buf)]
		}
		m, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if m > 0 {
			empty = 0
			need, err := SetupLen(buf)
			if err != nil {
				return nil, nil, err
			}
			if need > 0 && len(buf) >= need {
				if len(buf) > need {
					extra = append([]byte(nil), buf[need:]...)
				}
				return buf[:need:need], extra, nil
			}
		}
		switch {
		case rerr == io.EOF:
			return nil, nil, fmt.Errorf("x11: connection closed after %d bytes of the setup request: %w", len(buf), io.ErrUnexpectedEOF)
		case rerr != nil:
			return nil, nil, fmt.Errorf("x11: reading the setup request: %w", rerr)
		case m == 0:
			empty++
			if empty >= maxEmptyReads {
				return nil, nil, fmt.Errorf("x11: reading the setup request: %w", io.ErrNoProgress)
			}
		}
	}
}
