package sessions

import (
	"context"

	"github.com/perchdesk/perch/sessions/xpraclient"
)

// serverXpra returns the server's xpra version, asking the server the
// first time (xpraclient.ServerVersion) and showing the answer in the
// status; unknown when the server has no xpra (or ctx or the connection
// ended first).
func (l *Link) serverXpra(ctx context.Context, conn *liveConn) xpraclient.Version {
	return l.xv.Get(ctx, conn.dead, func() (xpraclient.Version, bool) {
		v, err := xpraclient.RemoteVersion(conn.client)
		again := err != nil && conn.endedByLink(context.Background(), l.DeadAfter())
		l.mu.Lock()
		defer l.mu.Unlock()
		l.status.XpraServer = v.Text
		if err != nil && v.Text == "" {
			l.log.Warn("no xpra version from the server", "err", err)
		}
		l.notifyLocked()
		return v, again
	})
}

// setLocalXpra records the local xpra's version in the status.
func (l *Link) setLocalXpra(v xpraclient.Version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.XpraLocal != v.Text {
		l.status.XpraLocal = v.Text
		l.notifyLocked()
	}
}
