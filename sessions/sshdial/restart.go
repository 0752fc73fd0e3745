package sshdial

import (
	"context"
	"errors"
	"net"
	"sync"
)

// ErrRestarted ends a TCP connect that Restartable.Restart started over.
var ErrRestarted = errors.New("the network changed during the TCP connect")

// Restartable dials TCP connections (for Options.NetDialer) whose connect
// in progress can be ended at once: a connect begun while the network was
// down fails, or waits seconds for a SYN answer or a neighbour that will
// never come, and is better started over when the network changes.
type Restartable struct {
	// Inner dials (nil: a plain net.Dialer).
	Inner func(ctx context.Context, network, addr string) (net.Conn, error)
	// Made, when set, is told of each connection made.
	Made func(net.Conn)

	mu     sync.Mutex
	cancel context.CancelCauseFunc // the connect in progress; nil: none
}

// Dial connects as Inner does; a Restart meanwhile ends it with
// ErrRestarted.
func (r *Restartable) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	dial := r.Inner
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	c, err := dial(ctx, network, addr)
	r.mu.Lock()
	r.cancel = nil
	r.mu.Unlock()
	if err != nil {
		if errors.Is(context.Cause(ctx), ErrRestarted) {
			return nil, ErrRestarted
		}
		return nil, err
	}
	if r.Made != nil {
		r.Made(c)
	}
	return c, nil
}

// Restart ends the connect in progress, if there is one, and reports
// whether there was.
func (r *Restartable) Restart() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		return false
	}
	r.cancel(ErrRestarted)
	return true
}
