package memssh

import (
	"io"
	"net"
	"sync"
	"time"
)

// Net is the in-memory network the server's connections cross: it can
// delay every byte (latency, each way) and freeze every connection, as a
// path whose packets stop would.
type Net struct {
	mu      sync.Mutex
	latency time.Duration
	frozen  bool
	queues  []*queue
}

// SetLatency delays the bytes written from now on by d, each way.
func (n *Net) SetLatency(d time.Duration) {
	n.mu.Lock()
	n.latency = d
	n.mu.Unlock()
}

// Freeze stops delivering bytes on every connection, old and new, until
// Thaw; nothing is lost.
func (n *Net) Freeze() { n.setFrozen(true) }

// Thaw delivers again what Freeze held back.
func (n *Net) Thaw() { n.setFrozen(false) }

func (n *Net) setFrozen(on bool) {
	n.mu.Lock()
	n.frozen = on
	qs := append([]*queue(nil), n.queues...)
	n.mu.Unlock()
	for _, q := range qs {
		q.signal()
	}
}

func (n *Net) state() (latency time.Duration, frozen bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latency, n.frozen
}

// Pipe is a connected pair of buffered in-memory connections (net.Pipe
// is unbuffered: both ends of an SSH connection write their version first
// and would wait on each other). Every wait in it is on a channel, so a
// testing/synctest bubble sees it as durably blocked.
func (n *Net) Pipe() (net.Conn, net.Conn) {
	a, b := n.newQueue(), n.newQueue()
	return &conn{n: n, in: a, out: b, local: "client"}, &conn{n: n, in: b, out: a, local: "server"}
}

func (n *Net) newQueue() *queue {
	q := &queue{wake: make(chan struct{}, 1)}
	n.mu.Lock()
	n.queues = append(n.queues, q)
	n.mu.Unlock()
	return q
}

// queue is one direction of a connection.
type queue struct {
	mu     sync.Mutex
	chunks []chunk
	closed bool
	wake   chan struct{} // signalled at every change
}

type chunk struct {
	b   []byte
	due time.Time // not readable before
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) write(b []byte, due time.Time) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return net.ErrClosed
	}
	q.chunks = append(q.chunks, chunk{b: append([]byte(nil), b...), due: due})
	q.mu.Unlock()
	q.signal()
	return nil
}

func (q *queue) close(discard bool) {
	q.mu.Lock()
	q.closed = true
	if discard {
		q.chunks = nil
	}
	q.mu.Unlock()
	q.signal()
}

// read reads what is due, waiting for it (and through a freeze).
func (q *queue) read(n *Net, p []byte) (int, error) {
	for {
		_, frozen := n.state()
		q.mu.Lock()
		if len(q.chunks) == 0 && q.closed {
			q.mu.Unlock()
			return 0, io.EOF
		}
		wait := time.Duration(-1) // -1: until signalled
		if len(q.chunks) > 0 && !frozen {
			c := &q.chunks[0]
			if wait = time.Until(c.due); wait <= 0 {
				k := copy(p, c.b)
				if c.b = c.b[k:]; len(c.b) == 0 {
					q.chunks = q.chunks[1:]
				}
				q.mu.Unlock()
				return k, nil
			}
		}
		q.mu.Unlock()
		if wait < 0 {
			<-q.wake
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// conn is one end of a pipe.
type conn struct {
	n       *Net
	in, out *queue
	local   string
	once    sync.Once
}

func (c *conn) Read(p []byte) (int, error) { return c.in.read(c.n, p) }

func (c *conn) Write(p []byte) (int, error) {
	latency, _ := c.n.state()
	if err := c.out.write(p, time.Now().Add(latency)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close ends both directions: this end reads no more, the other reads
// what was written, then EOF.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.in.close(true)
		c.out.close(false)
	})
	return nil
}

func (c *conn) LocalAddr() net.Addr                { return addr(c.local) }
func (c *conn) RemoteAddr() net.Addr               { return addr("peer of " + c.local) }
func (c *conn) SetDeadline(t time.Time) error      { return nil }
func (c *conn) SetReadDeadline(t time.Time) error  { return nil }
func (c *conn) SetWriteDeadline(t time.Time) error { return nil }

type addr string

func (a addr) Network() string { return "memssh" }
func (a addr) String() string  { return string(a) }
