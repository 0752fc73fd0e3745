package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/backoff"
)

// flapTime: a link that dies sooner than this after connecting counts as
// a failed attempt, so a flapping link backs off.
const flapTime = 2 * time.Second

// errStop ends supervision for a clean stop.
var errStop = errors.New("stopping")

// errReconnect ends supervision for a reconnect that was asked for: the
// next attempt is at once.
var errReconnect = errors.New("reconnect requested")

// lost drops a connection that died and waits before the next attempt:
// a random point of a short window after the first loss (Backoff.Spread),
// then the backoff. It reports false when ctx ended meanwhile.
func (l *Link) lost(ctx context.Context, bo *backoff.Backoff, conn *liveConn, err error) bool {
	l.log.Warn("link lost", "err", err)
	healthy := time.Since(conn.upAt) > flapTime || l.allAttached()
	l.drop(conn, err)
	// The dial itself worked: unless the link flaps (dies within seconds
	// of every connect, before its sessions attached), the next attempt
	// starts afresh.
	if healthy {
		bo.Reset()
	}
	if errors.Is(err, errReconnect) {
		return true
	}
	return backoff.Sleep(ctx, bo.Retry(), l.kick)
}

// superviseWatched is supervise with the bandwidth watcher beside it.
func (l *Link) superviseWatched(ctx context.Context, conn *liveConn) error {
	l.mu.Lock()
	tcp := time.Duration(l.status.Timings.TCP)
	l.mu.Unlock()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.watchBandwidth(wctx, conn, tcp)
	}()
	defer func() { stop(); <-done }()
	return l.supervise(ctx, conn)
}

// supervise sends keepalives until the connection dies, ctx ends (errStop)
// or a reconnect is asked for. A keepalive has its own deadline: the link
// is dead when nothing at all arrived from the server for
// Keepalive × KeepaliveMax.
func (l *Link) supervise(ctx context.Context, conn *liveConn) error {
	interval, limit := l.opts.Keepalive, l.opts.Keepalive*time.Duration(l.opts.KeepaliveMax)
	clientDone := make(chan error, 1)
	go func() { clientDone <- conn.client.Wait() }()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	dead := time.NewTimer(limit)
	defer dead.Stop()
	replies := make(chan time.Duration, 1)
	outstanding := false
	silence := l.from.Silence
	for {
		select {
		case <-ctx.Done():
			return errStop
		case err := <-clientDone:
			if err == nil {
				err = errors.New("the server closed the connection")
			}
			return fmt.Errorf("connection lost: %w", err)
		case <-l.kick:
			return errReconnect
		case rtt := <-replies:
			outstanding = false
			l.mu.Lock()
			l.status.RTT = api.Duration(rtt)
			l.mu.Unlock()
		case <-ticker.C:
			if !outstanding {
				outstanding = true
				go keepaliveRTT(conn, replies)
			}
			dead.Reset(max(limit-silence(), time.Millisecond))
			if conn.claims != nil {
				go conn.claims.Tick(interval)
			}
		case <-dead.C:
			if s := silence(); s >= limit {
				return fmt.Errorf("no answer from the server for %s (keepalive every %s, %d missed)",
					s.Round(time.Millisecond), interval, l.opts.KeepaliveMax)
			}
			dead.Reset(max(limit-silence(), time.Millisecond))
		}
	}
}

// drop closes a dead connection; the sessions see conn.dead and wait for
// the next one.
func (l *Link) drop(conn *liveConn, err error) {
	l.mu.Lock()
	if l.conn == conn {
		l.conn = nil
	}
	l.status.State = api.LinkDown
	l.status.Since = time.Now()
	l.status.LastError = err.Error()
	l.status.RTT = 0
	l.notifyLocked()
	l.mu.Unlock()
	close(conn.dead)
	conn.client.Close()
	if conn.x11 != nil {
		conn.x11.Close()
	}
}

// stop ends the sessions while the connection is still up (so that they
// can signal their remote commands), then closes it.
func (l *Link) stop(conn *liveConn) {
	l.mu.Lock()
	for _, s := range l.sessions {
		if s.cancel != nil {
			s.cancel()
		}
	}
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		l.mu.Lock()
		ss := slices.Clone(l.sessions)
		l.mu.Unlock()
		for _, s := range ss {
			if s.cancel != nil {
				<-s.done
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(l.opts.StopTimeout + 2*time.Second):
		l.log.Warn("sessions did not stop in time; closing the connection")
	}
	if conn.claims != nil {
		conn.claims.Free(time.Second)
	}
	l.drop(conn, errStop)
	<-done
}

// keepaliveRTT sends one keepalive and reports its round trip.
func keepaliveRTT(conn *liveConn, replies chan<- time.Duration) {
	if rtt, err := conn.ping(); err == nil {
		select {
		case replies <- rtt:
		default:
		}
	}
}
