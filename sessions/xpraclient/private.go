package xpraclient

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// PrivateSocket is the local end of a local session: a unix socket in a
// directory of its own (0700), itself 0600, never a TCP port. Each
// connection to it is spliced to a fresh channel to the server's socket,
// opened when the client connects, as `ssh -L` does: nothing idles on the
// server's socket (xpra 6.4 and later drop a unix connection that sends
// nothing for about 1.1 s).
type PrivateSocket struct {
	Path string
	dir  string
	ln   net.Listener
	dial func() (net.Conn, error)

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// RuntimeDir is where private sockets go: $XDG_RUNTIME_DIR if set, else
// the temporary directory.
func RuntimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return os.TempDir()
}

// ListenPrivate makes a private socket; dial opens a channel to the
// server's socket for a connection.
func ListenPrivate(dial func() (net.Conn, error)) (*PrivateSocket, error) {
	dir, err := os.MkdirTemp(RuntimeDir(), "perch-local-xpra-") // 0700
	if err != nil {
		return nil, fmt.Errorf("create a private directory for the xpra socket: %w", err)
	}
	p := &PrivateSocket{dir: dir, Path: filepath.Join(dir, "socket"), dial: dial, conns: map[net.Conn]struct{}{}}
	if p.ln, err = net.Listen("unix", p.Path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("listen on the private xpra socket: %w", err)
	}
	if err := os.Chmod(p.Path, 0o600); err != nil {
		p.ln.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("make the xpra socket private: %w", err)
	}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *PrivateSocket) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			p.splice(c)
		}()
	}
}

// splice carries one connection over a channel of its own.
func (p *PrivateSocket) splice(c net.Conn) {
	defer c.Close()
	rc, err := p.dial()
	if err != nil {
		p.untrack(c)
		return
	}
	defer rc.Close()
	p.mu.Lock()
	p.conns[rc] = struct{}{}
	closed := p.closed
	p.mu.Unlock()
	defer p.untrack(c, rc)
	if closed {
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either end closing ends both: xpra has no half-closed state.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(rc, c)
	go cp(c, rc)
	<-done
	<-done
}

func (p *PrivateSocket) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// Close stops listening, ends every connection and removes the directory.
func (p *PrivateSocket) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
	os.RemoveAll(p.dir)
}
