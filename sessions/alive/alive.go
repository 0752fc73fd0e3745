// Package alive tells whether the server still answers: the link's one
// keepalive sender (one request in flight at a time, its answer shared by
// whoever asks meanwhile), the count of the server's bytes that dates its
// last sign of life, and the one rule for "did the link end my command".
package alive

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Pinger sends keepalives over one connection, one at a time: who asks
// while one is out gets its answer.
type Pinger struct {
	send func() error // one keepalive, returning when it is answered

	mu      sync.Mutex
	waiters []chan result // non-nil while a keepalive is out: who waits for its answer
}

// result is a keepalive's answer, for those who waited for it.
type result struct {
	rtt time.Duration
	err error
}

// NewPinger returns the pinger of a connection; send sends one keepalive
// and returns when it is answered. Any answer counts: OpenSSH's sshd
// answers keepalive@openssh.com with a failure.
func NewPinger(send func() error) *Pinger { return &Pinger{send: send} }

// Ping sends one keepalive, or waits for the one that is out, and returns
// its round trip.
func (p *Pinger) Ping() (time.Duration, error) {
	p.mu.Lock()
	if p.waiters != nil {
		ch := make(chan result, 1)
		p.waiters = append(p.waiters, ch)
		p.mu.Unlock()
		r := <-ch
		return r.rtt, r.err
	}
	p.waiters = []chan result{}
	p.mu.Unlock()
	sent := time.Now()
	err := p.send()
	r := result{rtt: time.Since(sent), err: err}
	if err != nil {
		r.rtt = 0
	}
	p.mu.Lock()
	for _, ch := range p.waiters {
		ch <- r
	}
	p.waiters = nil
	p.mu.Unlock()
	return r.rtt, r.err
}

// Probe is how long EndedByLink waits for a keepalive's answer.
const Probe = 2 * time.Second

// EndedByLink is the one rule for "did the link end my command?", asked
// when a session's command (or local client) ended without an exit of its
// own: the link did when its connection is gone (dead is closed), or when
// the server does not answer a keepalive within Probe; the caller then
// waits (up to deadAfter) for the link to notice, so that it restarts on
// the next connection rather than back off. A server that answers did not
// lose it.
func EndedByLink(ctx context.Context, p *Pinger, dead <-chan struct{}, deadAfter time.Duration) bool {
	select {
	case <-dead:
		return true
	default:
	}
	answered := make(chan bool, 1)
	go func() {
		_, err := p.Ping()
		answered <- err == nil
	}()
	probe := time.NewTimer(Probe)
	defer probe.Stop()
	select {
	case ok := <-answered:
		if ok {
			return false
		}
	case <-dead:
		return true
	case <-probe.C:
	case <-ctx.Done():
		return false
	}
	wait := time.NewTimer(deadAfter)
	defer wait.Stop()
	select {
	case <-dead:
	case <-wait.C:
	case <-ctx.Done():
	}
	return true
}

// Counter is what a link knows of the bytes that came from the server,
// whatever carried them (TCP, a ProxyCommand's pipe, a jump host's
// channel).
type Counter struct {
	last atomic.Int64 // unix nanoseconds of the last byte
	rx   atomic.Int64 // bytes read
}

// Wrap returns c counting into the counter.
func (k *Counter) Wrap(c net.Conn) net.Conn { return countedConn{c, k} }

// Touch dates a sign of life now (a connection that just came up).
func (k *Counter) Touch() { k.last.Store(time.Now().UnixNano()) }

// Silence is how long the server has been silent.
func (k *Counter) Silence() time.Duration { return time.Since(time.Unix(0, k.last.Load())) }

// Received is the number of bytes read from the server.
func (k *Counter) Received() int64 { return k.rx.Load() }

type countedConn struct {
	net.Conn
	k *Counter
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.k.last.Store(time.Now().UnixNano())
		c.k.rx.Add(int64(n))
	}
	return n, err
}
