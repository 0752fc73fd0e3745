package sessions

import (
	"context"
	"time"

	"github.com/perchdesk/perch/sessions/bwlimit"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// The link's side of bwlimit: its local xpra clients start with the
// limit the watcher set for the link (l.bw), unless their own options set
// one.

// xpraLimit returns the limit for a local client's next start (0: none)
// and a channel closed when it changes; both nil/0 when the session's
// own options set one.
func (l *Link) xpraLimit(lx xpraclient.Attach) (int64, <-chan struct{}) {
	if bwlimit.UserSet(lx.Options()) {
		return 0, nil
	}
	return l.bw.Get()
}

// autoLimited reports whether a session of the link is a local one whose
// limit perch sets.
func (l *Link) autoLimited() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.spec.Local.On && !bwlimit.UserSet(s.spec.Local.Options()) {
			return true
		}
	}
	return false
}

// watchBandwidth runs the watcher beside supervise for one connection
// until ctx ends (supervise's end) or the connection dies.
func (l *Link) watchBandwidth(ctx context.Context, conn *liveConn, firstRTT time.Duration) {
	bwlimit.Watch{
		FirstRTT: firstRTT, Dead: conn.dead, Received: bwlimit.ReceivedCounter(l.tcp.Load(), l.from.Received), Ping: conn.ping,
		Auto: l.autoLimited, Limit: l.bw, Log: l.log,
		Changed: func() {
			l.mu.Lock()
			l.notifyLocked()
			l.mu.Unlock()
		},
	}.Run(ctx)
}
