package sessions

import (
	"context"
	"time"

	"github.com/perchdesk/perch/sessions/bwlimit"
)

// The link's side of bwlimit: its local xpra clients start with the
// limit the watcher set for the link (l.bw), unless their own options set
// one.

// xpraLimit returns the limit for a local client's next start (0: none)
// and a channel closed when it changes; both nil/0 when the session's
// own options set one.
func (l *Link) xpraLimit(lx LocalXpra) (int64, <-chan struct{}) {
	if bwlimit.UserSet(lx.args()) {
		return 0, nil
	}
	return l.bw.Get()
}

// limitArgs is the option a local client starts with for limit.
func limitArgs(limit int64) []string { return bwlimit.Args(limit) }

// autoLimited reports whether a session of the link is a local one whose
// limit perch sets.
func (l *Link) autoLimited() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.spec.Local.On && !bwlimit.UserSet(s.spec.Local.args()) {
			return true
		}
	}
	return false
}

// watchBandwidth runs the watcher beside supervise for one connection
// until ctx ends (supervise's end) or the connection dies.
func (l *Link) watchBandwidth(ctx context.Context, conn *liveConn, firstRTT time.Duration) {
	bwlimit.Watch{
		FirstRTT: firstRTT, Dead: conn.dead, Received: l.receivedCounter(), Ping: conn.ping,
		Auto: l.autoLimited, Limit: l.bw, Log: l.log,
		Changed: func() {
			l.mu.Lock()
			l.notifyLocked()
			l.mu.Unlock()
		},
	}.Run(ctx)
}

// receivedCounter returns what counts the bytes the server sent: the
// kernel's count of bytes received on the link's TCP connection when
// there is one (bwlimit.TCPReceived), else the bytes read (a
// ProxyCommand's pipe).
func (l *Link) receivedCounter() func() int64 {
	if tc := l.tcp.Load(); tc != nil {
		if _, ok := bwlimit.TCPReceived(tc); ok {
			return func() int64 {
				n, _ := bwlimit.TCPReceived(tc)
				return n
			}
		}
	}
	return l.rx.Load
}

// keepaliveRTT sends one keepalive and reports its round trip.
func keepaliveRTT(conn *liveConn, _ time.Time, replies chan<- time.Duration) {
	if rtt, err := conn.ping(); err == nil {
		select {
		case replies <- rtt:
		default:
		}
	}
}
