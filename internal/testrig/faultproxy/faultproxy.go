// Package faultproxy is a TCP proxy for tests that can freeze or cut the connections it carries.
//
// A Proxy listens on 127.0.0.1 and forwards every accepted connection to a
// fixed target address. Freeze stops all forwarding without closing anything,
// Thaw resumes it (delivering whatever was held, in order), and Cut aborts every
// current connection while the listener keeps accepting new ones. It is meant
// to sit between an SSH client and sshd so tests can simulate a hung or dropped
// network link. Blackhole freezes only the connections open now, for good,
// as a NAT box that lost its state does: new connections work.
//
// Every goroutine the proxy starts is owned by it and ends by Close: one accept
// loop, one handler per connection and one extra pump per connection for the
// target-to-client direction.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// bufSize is the size of each per-direction copy buffer.
const bufSize = 32 * 1024

// Proxy is a TCP proxy between clients connecting to Addr and a target
// address. All methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // cancelled by Close; aborts pending dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop, handlers and pumps

	mu       sync.Mutex
	cond     *sync.Cond // signalled on any change of frozen, closed, inflight or a link's state
	frozen   bool
	closed   bool
	inflight int // writes in progress; Freeze waits for them to stop
	links    map[*link]struct{}
	accepted int
}

// link is one proxied connection: the accepted client side and the dialled
// upstream side. Its fields are guarded by Proxy.mu.
type link struct {
	client   net.Conn
	upstream net.Conn // nil while dialling
	closed   bool
	held     bool // black-holed: carries nothing until closed
	inflight int  // writes in progress on this link
}

// New starts a proxy listening on 127.0.0.1 on a free port that forwards each
// accepted connection to target (a "host:port" address).
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: target,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		links:  make(map[*link]struct{}),
	}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address clients should connect to, as "127.0.0.1:port".
func (p *Proxy) Addr() string {
	return p.ln.Addr().String()
}

// Freeze stops forwarding bytes in both directions on all current and future
// connections without closing anything. Bytes stay unread in the kernel or
// held in the proxy's buffers until Thaw. New connections are still accepted
// (and dialled through to the target) but carry no data until Thaw.
//
// When Freeze returns, no further byte is handed to any socket until Thaw.
// Freeze is idempotent.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.frozen = true
	// A deadline in the past aborts reads and writes already blocked in the
	// kernel, so they come back to wait for Thaw; partially written data is
	// kept by the pump and written after Thaw.
	past := time.Unix(1, 0)
	for l := range p.links {
		l.setDeadline(past)
	}
	for p.frozen && p.inflight > 0 {
		p.cond.Wait()
	}
}

// Thaw resumes forwarding on every connection. Bytes held during the freeze
// are delivered first, in order. Thaw is idempotent.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		return
	}
	p.frozen = false
	for l := range p.links {
		l.setDeadline(time.Time{})
	}
	p.cond.Broadcast()
}

// Blackhole stops forwarding on every connection open now, in both
// directions and for good: nothing is closed and nothing is delivered
// any more, so each end only learns of it from its own timeouts. New
// connections are forwarded normally. Held connections are closed by Cut or
// Close. When Blackhole returns, no further byte is handed to a socket of
// those connections.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	past := time.Unix(1, 0)
	held := make([]*link, 0, len(p.links))
	for l := range p.links {
		l.held = true
		l.setDeadline(past)
		held = append(held, l)
	}
	for _, l := range held {
		for l.inflight > 0 && !l.closed {
			p.cond.Wait()
		}
	}
}

// Cut abruptly closes every current connection on both sides (with a TCP
// reset where possible). The listener keeps accepting new connections, which
// are forwarded normally (unless the proxy is frozen).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		p.abortLocked(l, true)
	}
}

// Conns returns the number of currently open proxied connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Accepted returns the total number of connections accepted so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Close stops listening, closes every connection and waits until all of the
// proxy's goroutines have ended. Calls after the first return nil.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cancel()
	err := p.ln.Close()
	for l := range p.links {
		p.abortLocked(l, false)
	}
	p.cond.Broadcast()
	p.mu.Unlock()

	p.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("faultproxy: close listener: %w", err)
	}
	return nil
}

// acceptLoop accepts connections until the listener is closed, starting one
// handler goroutine per connection.
func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			p.mu.Lock()
			closed := p.closed
			p.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient failure (e.g. out of file descriptors): back off
			// like net/http does, but wake up at once on Close.
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff *= 2; backoff > time.Second {
				backoff = time.Second
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0

		l := &link{client: c}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.accepted++
		p.links[l] = struct{}{}
		// The counter is at least 1 (this loop) so Add is safe while Close
		// may already be waiting.
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(l)
	}
}

// handle dials the target for l and runs both directions until they end.
func (p *Proxy) handle(l *link) {
	defer p.wg.Done()
	defer p.abort(l)

	var d net.Dialer
	up, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		p.mu.Lock()
		p.abortLocked(l, true)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	if l.closed {
		p.mu.Unlock()
		_ = up.Close()
		return
	}
	l.upstream = up
	p.wg.Add(1) // the handler holds a count, so this is safe
	p.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer p.wg.Done()
		defer close(done)
		p.pipe(l, l.client, up)
	}()
	p.pipe(l, up, l.client)
	<-done
}

// pipe copies src to dst until EOF or an error. On EOF it half-closes dst so
// the peer sees the end of the stream; on any other error it aborts the link.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	buf := make([]byte, bufSize)
	timedOut := false
	for {
		if !p.waitThawed(l, src, timedOut) {
			return
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if err := p.writeAll(l, dst, buf[:n]); err != nil {
				p.abort(l)
				return
			}
		}
		switch {
		case rerr == nil:
			timedOut = false
		case isTimeout(rerr):
			// Interrupted by Freeze: nothing was lost, wait for Thaw.
			timedOut = true
		case errors.Is(rerr, io.EOF):
			// Deliver the end of stream only when not frozen either.
			if !p.waitThawed(l, dst, false) {
				return
			}
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				if cw.CloseWrite() == nil {
					return
				}
			}
			p.abort(l)
			return
		default:
			p.abort(l)
			return
		}
	}
}

// writeAll writes b to dst, pausing while the proxy is frozen and keeping the
// unwritten remainder when Freeze interrupts a write.
func (p *Proxy) writeAll(l *link, dst net.Conn, b []byte) error {
	timedOut := false
	for len(b) > 0 {
		p.mu.Lock()
		if !p.waitThawedLocked(l, dst, timedOut) {
			p.mu.Unlock()
			return net.ErrClosed
		}
		p.inflight++
		l.inflight++
		p.mu.Unlock()

		n, err := dst.Write(b)
		b = b[n:]

		p.mu.Lock()
		p.inflight--
		l.inflight--
		p.cond.Broadcast()
		p.mu.Unlock()

		if err != nil {
			if isTimeout(err) {
				timedOut = true
				continue
			}
			return err
		}
		timedOut = false
	}
	return nil
}

// waitThawed blocks until the proxy is not frozen. It reports false when the
// link has been closed.
func (p *Proxy) waitThawed(l *link, c net.Conn, timedOut bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitThawedLocked(l, c, timedOut)
}

// waitThawedLocked is waitThawed with p.mu held; a black-holed link waits
// until it is closed. If the caller's last
// operation on c timed out and the proxy is no longer frozen, it clears c's
// deadline (Thaw normally does this already; this guards against a spin).
func (p *Proxy) waitThawedLocked(l *link, c net.Conn, timedOut bool) bool {
	for (p.frozen || l.held) && !l.closed {
		p.cond.Wait()
	}
	if l.closed {
		return false
	}
	if timedOut {
		_ = c.SetDeadline(time.Time{})
	}
	return true
}

// abort closes both sides of l.
func (p *Proxy) abort(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.abortLocked(l, false)
}

// abortLocked closes both sides of l, with a TCP reset when reset is true, and
// forgets it. p.mu must be held.
func (p *Proxy) abortLocked(l *link, reset bool) {
	if !l.closed {
		l.closed = true
		for _, c := range []net.Conn{l.client, l.upstream} {
			if c == nil {
				continue
			}
			if tc, ok := c.(*net.TCPConn); ok && reset {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	}
	delete(p.links, l)
	p.cond.Broadcast()
}

// setDeadline sets the read and write deadline on both sides of l.
func (l *link) setDeadline(t time.Time) {
	if l.closed {
		return
	}
	_ = l.client.SetDeadline(t)
	if l.upstream != nil {
		_ = l.upstream.SetDeadline(t)
	}
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
