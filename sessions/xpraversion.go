package sessions

import (
	"context"
	"sync"

	"github.com/perchdesk/perch/sessions/xpraclient"
)

// xpraVersions is what a link learnt of xpra's versions: the server's
// `xpra --version`, asked once per link (on its first connection, again
// only if that connection died before the answer), and the local
// binary's (xpraclient.LocalVersion, once per process).
type xpraVersions struct {
	mu     sync.Mutex
	server xpraclient.Version
	asked  chan struct{} // closed once the server answered; nil: not asked yet
}

// serverXpra returns the server's xpra version, asking the server the first
// time; unknown when the server has no xpra (or ctx or the connection
// ended first).
func (l *Link) serverXpra(ctx context.Context, conn *liveConn) xpraclient.Version {
	l.xv.mu.Lock()
	if l.xv.asked == nil {
		l.xv.asked = make(chan struct{})
		go l.askServerXpra(conn, l.xv.asked)
	}
	asked := l.xv.asked
	l.xv.mu.Unlock()
	select {
	case <-asked:
	case <-ctx.Done():
	case <-conn.dead:
	}
	l.xv.mu.Lock()
	defer l.xv.mu.Unlock()
	return l.xv.server
}

// askServerXpra runs `xpra --version` on the server and records the
// answer in the status; a connection that died first leaves the question
// for the next one.
func (l *Link) askServerXpra(conn *liveConn, asked chan struct{}) {
	v, err := xpraclient.RemoteVersion(conn.client)
	l.xv.mu.Lock()
	if err != nil && conn.endedByLink(context.Background(), l.DeadAfter()) {
		l.xv.asked = nil // ask again on the next connection
	} else {
		l.xv.server = v
	}
	l.xv.mu.Unlock()
	close(asked)
	l.mu.Lock()
	l.status.XpraServer = v.Text
	if err != nil && v.Text == "" {
		l.log.Warn("no xpra version from the server", "err", err)
	}
	l.notifyLocked()
	l.mu.Unlock()
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
