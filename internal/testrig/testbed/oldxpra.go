package testbed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// OldXpra stands for an xpra server of another version on a display: a
// unix socket named as xpra 3.1 names its sockets (HOSTNAME-N), where
// `xpra attach` and perch's socket discovery find it, that answers every
// client's hello with xpra's own hello packet carrying Version and then
// waits for the client to hang up. A real xpra client checks that version
// (xpra/version_util.py version_compat_check) before anything else of the
// server's capabilities, so with a version it refuses ("0.14.0": older
// than the oldest it supports, 0.14.10) the refusal and its words are the
// client's own.
type OldXpra struct {
	Display int
	Version string
	Socket  string

	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	visits []Visit
	conns  map[net.Conn]struct{}
	closed bool
}

// Visit is one client's connection that sent a hello: when the hello
// arrived and when the client hung up (zero while connected).
type Visit struct{ Hello, End time.Time }

// StartOldXpra listens on display's socket in dir (a Xpra's SocketDir)
// and answers hellos with version. The socket is reachable for every
// local user (0666), as the bed's login user is another one when the
// tests run as root.
func StartOldXpra(dir string, display int, version string) (*OldXpra, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("old xpra: %w", err)
	}
	o := &OldXpra{Display: display, Version: version, conns: map[net.Conn]struct{}{},
		Socket: filepath.Join(dir, host+"-"+strconv.Itoa(display))}
	if o.ln, err = net.Listen("unix", o.Socket); err != nil {
		return nil, fmt.Errorf("old xpra: %w", err)
	}
	if err := os.Chmod(o.Socket, 0o666); err != nil {
		o.ln.Close()
		return nil, fmt.Errorf("old xpra: %w", err)
	}
	o.wg.Add(1)
	go o.serve()
	return o, nil
}

// Visits returns the clients' visits, oldest first.
func (o *OldXpra) Visits() []Visit {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.visits)
}

// Close stops listening, hangs up on every client and removes the socket.
func (o *OldXpra) Close() {
	o.mu.Lock()
	o.closed = true
	for c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.ln.Close() // removes the socket file
	o.wg.Wait()
}

func (o *OldXpra) serve() {
	defer o.wg.Done()
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			c.Close()
			return
		}
		o.conns[c] = struct{}{}
		o.wg.Add(1)
		o.mu.Unlock()
		go func() {
			defer o.wg.Done()
			defer func() {
				o.mu.Lock()
				delete(o.conns, c)
				o.mu.Unlock()
				c.Close()
			}()
			if i, err := o.answer(c); err == nil {
				_, _ = io.Copy(io.Discard, c) // until the client hangs up
				o.mu.Lock()
				o.visits[i].End = time.Now()
				o.mu.Unlock()
			}
		}()
	}
}

// answer reads the client's first packet (its hello) and sends the
// hello; it returns the visit's index.
func (o *OldXpra) answer(c net.Conn) (int, error) {
	if _, err := readXpraPacket(c); err != nil {
		return 0, err
	}
	o.mu.Lock()
	o.visits = append(o.visits, Visit{Hello: time.Now()})
	i := len(o.visits) - 1
	o.mu.Unlock()
	hello := bencode([]any{"hello", map[string]any{
		"version": o.Version, "build.version": o.Version, "platform": "linux", "display": ":" + strconv.Itoa(o.Display),
	}})
	_, err := c.Write(append(xpraHeader(0, 0, 0, len(hello)), hello...))
	return i, err
}

// xpraHeader is xpra's packet header (xpra/net/header.py): 'P', protocol
// flags (0: bencoded), compression level (0: none), packet index and the
// payload size, big-endian.
func xpraHeader(flags, level, index byte, size int) []byte {
	h := []byte{'P', flags, level, index, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[4:], uint32(size))
	return h
}

// readXpraPacket reads one whole packet (header and payload; the client's
// hello is one chunk) and returns its payload, undecoded.
func readXpraPacket(r io.Reader) ([]byte, error) {
	h := make([]byte, 8)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, err
	}
	if h[0] != 'P' {
		return nil, fmt.Errorf("not an xpra packet header: %q", h)
	}
	size := binary.BigEndian.Uint32(h[4:])
	if size > 16<<20 {
		return nil, fmt.Errorf("xpra packet of %d bytes", size)
	}
	p := make([]byte, size)
	_, err := io.ReadFull(r, p)
	return p, err
}

// bencode encodes strings, ints, lists and string-keyed maps (keys sorted,
// as bencoding wants) the way xpra/net/bencode does.
func bencode(v any) []byte {
	var b bytes.Buffer
	var enc func(v any)
	enc = func(v any) {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "%d:%s", len(v), v)
		case int:
			fmt.Fprintf(&b, "i%de", v)
		case []any:
			b.WriteByte('l')
			for _, e := range v {
				enc(e)
			}
			b.WriteByte('e')
		case map[string]any:
			b.WriteByte('d')
			for _, k := range slices.Sorted(maps.Keys(v)) {
				enc(k)
				enc(v[k])
			}
			b.WriteByte('e')
		default:
			panic(errors.New("bencode: unsupported type"))
		}
	}
	enc(v)
	return b.Bytes()
}
