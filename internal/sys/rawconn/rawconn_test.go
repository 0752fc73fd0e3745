//go:build linux

package rawconn

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pair returns the two ends of a real connection of the given network
// ("tcp" or "unix").
func pair(t testing.TB, network string) (client, server net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestWrap: TCP and unix connections are wrapped, once; anything else,
// including a struct that carries a TCP connection inside, is left alone.
func TestWrap(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != a || Wrapped(a) {
		t.Fatal("a net.Pipe end (no socket underneath) was wrapped")
	}
	for _, network := range []string{"tcp", "unix"} {
		c, _ := pair(t, network)
		w := Wrap(c)
		if !Wrapped(w) || Wrapped(c) {
			t.Fatalf("a %s connection was not wrapped", network)
		}
		if Wrap(w) != w {
			t.Fatalf("a wrapped %s connection was wrapped again", network)
		}
		inside := struct{ net.Conn }{c}
		if Wrap(inside) != net.Conn(inside) {
			t.Fatalf("a struct carrying a %s connection was wrapped: its own methods would be bypassed", network)
		}
	}
}

// TestCopy moves 8 MiB each way at once through wrapped ends, so that
// writes fill the socket buffers and wait for the reader (EAGAIN) many
// times, and checks every byte.
func TestCopy(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			c, s := pair(t, network)
			a, b := Wrap(c), Wrap(s)
			want := make([]byte, 8<<20)
			rand.Read(want)
			errs := make(chan error, 2)
			for _, w := range []net.Conn{a, b} {
				go func() {
					n, err := w.Write(want)
					if err == nil && n != len(want) {
						err = io.ErrShortWrite
					}
					errs <- err
				}()
			}
			before := rawCalls.Load()
			for _, r := range []net.Conn{b, a} {
				got := make([]byte, 0, len(want))
				buf := make([]byte, 1000) // reads smaller than what is there, too
				for len(got) < len(want) {
					n, err := r.Read(buf)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, buf[:n]...)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("bytes read differ from bytes written")
				}
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			// At least one raw read per 1000 bytes: the bytes went through
			// the raw calls, not the net package's.
			if n := rawCalls.Load() - before; n < uint64(2*len(want)/1000) {
				t.Fatalf("%d raw calls for %d bytes each way", n, len(want))
			}
		})
	}
}

// TestErrorsAsPlain checks that each way a read or write ends reads as it
// does on the connection unwrapped: same message, same errors.Is answers.
func TestErrorsAsPlain(t *testing.T) {
	cases := []struct {
		name string
		// do provokes the error on c (whose peer is p) and returns it.
		do func(c, p net.Conn) error
		is error
	}{
		{"eof", func(c, p net.Conn) error {
			p.Close()
			_, err := c.Read(make([]byte, 10))
			return err
		}, io.EOF},
		{"read deadline", func(c, p net.Conn) error {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := c.Read(make([]byte, 10))
			return err
		}, os.ErrDeadlineExceeded},
		{"write deadline", func(c, p net.Conn) error {
			c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := c.Write(make([]byte, 64<<20)) // more than the buffers hold
			return err
		}, os.ErrDeadlineExceeded},
		{"read after close", func(c, p net.Conn) error {
			c.Close()
			_, err := c.Read(make([]byte, 10))
			return err
		}, net.ErrClosed},
		{"close while reading", func(c, p net.Conn) error {
			time.AfterFunc(20*time.Millisecond, func() { c.Close() })
			_, err := c.Read(make([]byte, 10))
			return err
		}, net.ErrClosed},
		{"reset by peer", func(c, p net.Conn) error {
			p.(*net.TCPConn).SetLinger(0)
			c.Write([]byte("x")) // unread by the peer: its close resets
			time.Sleep(10 * time.Millisecond)
			p.Close()
			time.Sleep(10 * time.Millisecond)
			_, err := c.Read(make([]byte, 10))
			return err
		}, syscall.ECONNRESET},
		{"write after peer reset", func(c, p net.Conn) error {
			p.(*net.TCPConn).SetLinger(0)
			p.Close()
			time.Sleep(10 * time.Millisecond)
			var err error
			for range 3 {
				if _, err = c.Write([]byte("x")); err != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			return err
		}, syscall.EPIPE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var msgs [2]string
			for i, wrap := range []bool{false, true} {
				c, p := pair(t, "tcp")
				if wrap {
					c = Wrap(c)
				}
				err := tc.do(c, p)
				if !errors.Is(err, tc.is) {
					if !(tc.is == syscall.EPIPE && errors.Is(err, syscall.ECONNRESET)) {
						t.Fatalf("wrapped=%v: error %v is not %v", wrap, err, tc.is)
					}
				}
				if tc.is == os.ErrDeadlineExceeded {
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						t.Fatalf("wrapped=%v: %v is not a timeout", wrap, err)
					}
				}
				// The same message but for the two ports.
				msgs[i] = strings.NewReplacer(c.LocalAddr().String(), "LOCAL", c.RemoteAddr().String(), "REMOTE").Replace(err.Error())
			}
			if msgs[0] != msgs[1] {
				t.Fatalf("messages differ:\nplain:   %s\nwrapped: %s", msgs[0], msgs[1])
			}
		})
	}
}

func TestCloseWrite(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			c, p := pair(t, network)
			w := Wrap(c)
			if _, err := w.Write([]byte("last words")); err != nil {
				t.Fatal(err)
			}
			if err := w.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(p)
			if err != nil || string(got) != "last words" {
				t.Fatalf("peer read %q, %v; want the bytes then EOF", got, err)
			}
			// The reading side is still open.
			if _, err := p.Write([]byte("reply")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(w, buf); err != nil || string(buf) != "reply" {
				t.Fatalf("read %q, %v after CloseWrite", buf, err)
			}
		})
	}
}

// TestMain makes the test binary the echoing peer of BenchmarkPingPong
// when it is started as one.
func TestMain(m *testing.M) {
	if path := os.Getenv("RAWCONN_ECHO"); path != "" {
		echo(path)
		return
	}
	os.Exit(m.Run())
}

// echo answers each 32-byte request read from the unix socket at path with
// 432 bytes (a GetImage 10x10 reply's size) until the socket closes.
func echo(path string) {
	c, err := net.Dial("unix", path)
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 432)
	for {
		if _, err := io.ReadFull(c, buf[:32]); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// BenchmarkPingPong is the X11 round trip's shape: one small request, one
// small reply, over a unix socket to another process (as the X server is),
// plain and wrapped. Run it with -cpu 1 for perch's GOMAXPROCS; the gap
// depends on how long a write that wakes another process takes (on the
// 2-core virtual machine this was written on: long enough for the runtime's
// monitor to take the processor away).
func BenchmarkPingPong(b *testing.B) {
	for _, wrap := range []bool{false, true} {
		name := "plain"
		if wrap {
			name = "raw"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "s")
			ln, err := net.Listen("unix", path)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "RAWCONN_ECHO="+path)
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer cmd.Wait()
			c, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if wrap {
				c = Wrap(c)
			}
			req, reply := make([]byte, 32), make([]byte, 432)
			for b.Loop() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
