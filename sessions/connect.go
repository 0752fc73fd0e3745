package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/alive"
	"github.com/perchdesk/perch/sessions/backoff"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// NetworkChanged tells the link that the machine's network changed (an
// interface came up, an address or a route appeared): a link waiting out
// its backoff after failed connects tries again now. A link that is up, or
// refused for good, is not touched.
func (l *Link) NetworkChanged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.State == api.LinkDown || l.status.State == api.LinkConnecting {
		l.freshBackoff = true
	}
	l.bw.Forget() // measured on the network that was
	switch {
	case l.status.State == api.LinkDown:
		// Under mu, so the state cannot move on: from api.LinkDown the run
		// loop's next step is the backoff sleep, which takes the kick.
		select {
		case l.kick <- struct{}{}:
			l.log.Info("the network changed: connecting now")
		default:
		}
	case l.status.State == api.LinkConnecting:
		// A connect begun while the network was down fails, or waits
		// seconds for a SYN answer or a neighbour that will never come:
		// the TCP connect starts over now, and a failure of this attempt
		// skips the backoff.
		l.netChanged = true
		if l.tcpDial.Restart() {
			l.log.Info("the network changed: starting the TCP connect over")
		}
	}
}

// waitConn returns the live connection, waiting for one; nil when ctx ends.
// failed reports that the link failed for good meanwhile.
func (l *Link) waitConn(ctx context.Context, onFailed func(string)) *liveConn {
	for {
		l.mu.Lock()
		c, ch, st, lastErr := l.conn, l.connCh, l.status.State, l.status.LastError
		l.mu.Unlock()
		if c != nil {
			select {
			case <-c.dead:
			default:
				return c
			}
		}
		if st == api.LinkFailed && onFailed != nil {
			onFailed(lastErr)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
	}
}

// connectFailed waits out a failed connect: until asked when the server
// refused for good, not at all when the network changed meanwhile, a few
// seconds at most when the server was away or shed load (see failure),
// else the backoff.
func (l *Link) connectFailed(ctx context.Context, bo *backoff.Backoff, err error) {
	if sshdial.Permanent(err) {
		l.log.Error("connection refused for good; not retrying until asked", "err", err)
		l.setState(api.LinkFailed, err)
		bo.Reset()
		backoff.Sleep(ctx, time.Duration(1<<62), l.kick)
		return
	}
	l.mu.Lock()
	changed, fresh := l.netChanged, l.freshBackoff
	l.freshBackoff = false
	l.mu.Unlock()
	if fresh {
		// The first connects on a network just back can still fail (a
		// neighbour entry still failed): retry from the shortest wait,
		// not from where the outage left it.
		bo.Reset()
	}
	if changed || errors.Is(err, sshdial.ErrRestarted) {
		l.log.Info("connect failed while the network changed; trying again now", "err", err)
		return // at once: changes come at most every few seconds (agent.WatchNetwork)
	}
	kind := backoff.KindOf(err)
	d := bo.After(kind)
	l.log.Warn("connect failed", "err", err, "cause", kind.String(), "retry_in", d.Round(time.Millisecond))
	l.setState(api.LinkDown, err)
	backoff.Sleep(ctx, d, l.kick)
}

// beginConnect marks the link connecting. A kick or a network change from
// before (right after a loss, when no backoff sleep took it) is met by
// this attempt: a kick kept would drop the new connection at once. Under
// mu with the state change, so NetworkChanged sees one or the other.
func (l *Link) beginConnect() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.kick:
	default:
	}
	l.netChanged = false
	l.setStateLocked(api.LinkConnecting, nil)
}

// newBackoff is a backoff with the link's random source.
func (l *Link) newBackoff() *backoff.Backoff {
	bo := backoff.New()
	bo.Rand = l.opts.rand
	return bo
}

func (l *Link) connect(ctx context.Context) (*liveConn, error) {
	opts := l.opts.Dial
	opts.NetDialer = l.tcpDial.Dial
	// Whatever carries the connection (TCP, a ProxyCommand, a jump
	// host's), the server's bytes are seen and counted.
	opts.Wrap = l.from.Wrap
	rx := l.from.Received()
	client, tm, err := l.opts.dial(ctx, l.opts.Target, opts)
	if err != nil {
		return nil, &backoff.Error{Kind: backoff.Classify(err, l.from.Received() != rx), Err: err}
	}
	conn := &liveConn{client: client, dead: make(chan struct{}), upAt: time.Now(), pinger: alive.NewPinger(func() error {
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		return err
	})}
	l.from.Touch()
	if l.opts.X11 != nil {
		conn.x11, err = x11fwd.New(client, l.opts.X11, l.log, &l.rejected)
		if err != nil {
			client.Close()
			return nil, err
		}
	}
	l.startClaims(conn)
	l.log.Info("connected", "address", l.opts.Target.Addr(), "tcp", tm.TCP, "handshake", tm.Handshake, "auth", tm.Auth, "total", tm.Total)
	l.mu.Lock()
	l.conn = conn
	if l.everUp {
		l.status.Reconnects++
	}
	l.everUp = true
	l.status.Timings = api.LinkTimings{TCP: api.Duration(tm.TCP), Handshake: api.Duration(tm.Handshake), Auth: api.Duration(tm.Auth), Total: api.Duration(tm.Total)}
	l.status.State = api.LinkUp
	l.status.Since = time.Now()
	l.status.LastError = ""
	l.notifyLocked()
	l.mu.Unlock()
	return conn, nil
}

// x11Ready records the first x11-req answered on a connection.
func (l *Link) x11Ready(conn *liveConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == conn && l.status.Timings.X11Ready == 0 {
		l.status.Timings.X11Ready = api.Duration(time.Since(conn.upAt))
		l.notifyLocked()
	}
}

// startClaims starts the claim watcher of a new connection when claims
// are on. Without a watcher the display sessions attach as they would
// without claims.
func (l *Link) startClaims(conn *liveConn) {
	l.mu.Lock()
	c := l.claims
	l.mu.Unlock()
	if c.Location == "" {
		return
	}
	w, err := claims.Start(conn.client, c, l.DeadAfter()+l.opts.Keepalive, l.DeadAfter())
	if err != nil {
		l.log.Warn("claims on the server do not work: displays are taken as xpra does", "err", err)
		return
	}
	conn.claims = w
}
