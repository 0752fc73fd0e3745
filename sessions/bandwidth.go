package sessions

// Local xpra clients on a link slower than the picture. Over a unix socket
// xpra's server cannot see how fast the link is: it writes to sshd's
// socket, which takes whatever it is given, so on a slow link the picture
// fills the SSH connection's buffers. Key presses still arrive (they go
// the other way), but the screen runs seconds late at a frame or two a
// second. xpra's --bandwidth-limit cures it, and perch sets it:
//
// While the server's bytes are pouring in, the link times a keepalive
// every second. Replies queued far behind the link's best round trip, for
// bwSpan seconds in a row, mean the link is full; what it carries over
// the bwMeasure seconds after that is what it can carry. Local clients
// are then restarted with --bandwidth-limit at bwShare of that (xpra's
// own share of a socket speed it can detect), and lowered again only if
// the link is still full bwCooldown later and the new limit is lower by a
// tenth; never below xpra's floor. The best round trip is that of the
// last bwWindow; a quiet link is timed every half window to keep it
// fresh. The limit lasts for the link, through reconnects, until the
// network changes. A session whose xpra_args set --bandwidth-limit is
// left to the user.

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	bwTick     = time.Second
	bwSpan     = 3                      // full ticks in a row that make the link full
	bwMeasure  = 3                      // further full ticks over which what it carries is measured
	bwQueued   = 400 * time.Millisecond // a round trip this much over the best: replies queue
	bwCooldown = 15 * time.Second       // after a change, before the next judgement
	bwShare    = 0.8                    // of what the link carried
	bwFloor    = 1 << 20                // bits/s: xpra's MIN_BANDWIDTH_LIMIT
	bwBusy     = 256 << 10              // bits/s from the server that make a tick busy
	// bwWindow: a best round trip older than this gives way to the next
	// one answered, so that a path that became slower for good is not
	// taken for a full link more than twice.
	bwWindow = 30 * time.Second
)

// congestion decides, one tick at a time, whether the link is full and
// what the local clients' limit should be. It is pure: the watcher feeds
// it what it measured.
type congestion struct {
	best     time.Duration // the best round trip of the window; 0: none yet
	bestAge  int           // ticks since best was answered
	full     int           // busy ticks in a row with queued replies
	carried  int64         // bits received in the measuring ticks
	cooldown int           // ticks left before the next judgement
	limit    int64         // the current limit, bits/s; 0: none
}

// tick takes one tick's figures: bits received from the server (per
// bwTick), and the round trip of the last keepalive (done) or the age of
// the one still unanswered (!done; 0: none sent). It returns the new limit and true when
// the limit should change, and what the link carried then.
func (c *congestion) tick(bits int64, rtt time.Duration, done bool) (limit, carried int64, change bool) {
	c.bestAge++
	if done && rtt > 0 && (c.best == 0 || rtt <= c.best || c.bestAge >= int(bwWindow/bwTick)) {
		c.best, c.bestAge = rtt, 0
	}
	if c.cooldown > 0 {
		c.cooldown--
		c.full, c.carried = 0, 0
		return c.limit, 0, false
	}
	busy := bits >= int64(bwBusy*bwTick.Seconds())
	if !busy || c.best == 0 || rtt <= c.best+bwQueued {
		c.full, c.carried = 0, 0
		return c.limit, 0, false
	}
	c.full++
	// What it carries is measured once it is full, over bwMeasure more
	// seconds: the first ones may still deliver bytes from before the link
	// became slower (from this machine's own socket buffers), or less
	// than it can while TCP recovers from the losses.
	if c.full > bwSpan {
		c.carried += bits
	}
	if c.full < bwSpan+bwMeasure {
		return c.limit, 0, false
	}
	rate := int64(float64(c.carried) / (bwMeasure * bwTick.Seconds()))
	c.full, c.carried = 0, 0
	c.cooldown = int(bwCooldown / bwTick)
	next := max(int64(bwFloor), int64(float64(rate)*bwShare))
	if c.limit != 0 && float64(next) >= 0.9*float64(c.limit) {
		return c.limit, rate, false
	}
	c.limit = next
	return next, rate, true
}

// wantsRTT reports whether the watcher should time a keepalive now: on a
// busy tick, and on quiet ones when the best round trip is half a window
// old, so that the best is fresh when the link gets busy.
func (c *congestion) wantsRTT(bits int64) bool {
	return bits >= int64(bwBusy*bwTick.Seconds()) || c.best == 0 || c.bestAge >= int(bwWindow/bwTick)/2
}

// userLimit reports whether xpra options set --bandwidth-limit.
func userLimit(args []string) bool {
	for _, a := range args {
		if a == "--bandwidth-limit" || strings.HasPrefix(a, "--bandwidth-limit=") {
			return true
		}
	}
	return false
}

// xpraLimit returns the limit for a local client's next start (0: none)
// and a channel closed when it changes; both nil/0 when the session's
// own options set one.
func (l *Link) xpraLimit(lx LocalXpra) (int64, <-chan struct{}) {
	if userLimit(lx.args()) {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bw.limit, l.bw.changed
}

// bwState is the link's limit, under l.mu.
type bwState struct {
	limit   int64         // bits/s; 0: none
	carried int64         // what the link carried when it was set
	changed chan struct{} // closed and replaced when limit changes
}

// setXpraLimit records a new limit and tells the local clients.
func (l *Link) setXpraLimit(limit, carried int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bw.limit, l.bw.carried = limit, carried
	l.status.XpraLimit, l.status.Carried = limit, carried
	close(l.bw.changed)
	l.bw.changed = make(chan struct{})
	l.notifyLocked()
}

// forgetXpraLimit drops the limit when the network changes: clients that
// start from now on start without one.
func (l *Link) forgetXpraLimitLocked() {
	l.bw.limit, l.bw.carried = 0, 0
	l.status.XpraLimit, l.status.Carried = 0, 0
}

// autoLimited reports whether a session of the link is a local one whose
// limit perch sets, and the current limit.
func (l *Link) autoLimited() (bool, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.spec.Local.On && !userLimit(s.spec.Local.args()) {
			return true, l.bw.limit
		}
	}
	return false, l.bw.limit
}

// watchBandwidth runs beside supervise for one connection and ends with
// ctx (supervise's end). It times keepalives only on busy seconds of a
// link with local sessions: an idle link costs nothing.
func (l *Link) watchBandwidth(ctx context.Context, conn *liveConn, firstRTT time.Duration) {
	c := congestion{best: firstRTT}
	ticker := time.NewTicker(bwTick)
	defer ticker.Stop()
	replies := make(chan time.Duration, 1)
	var sent time.Time         // of the keepalive not yet answered; zero: none
	var answered time.Duration // the round trip answered since the last tick; 0: none
	received := l.receivedCounter()
	last, lastAt := received(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.dead:
			return
		case r := <-replies:
			sent, answered = time.Time{}, max(answered, r)
			continue
		case <-ticker.C:
		}
		now, at := received(), time.Now()
		// Per bwTick, however late the tick came.
		bits := int64(float64((now-last)*8) * bwTick.Seconds() / max(at.Sub(lastAt), time.Millisecond).Seconds())
		last, lastAt = now, at
		// The tick's round trip: the one answered since the last tick,
		// or the wait of the one still out, if longer.
		rtt, done := answered, answered > 0
		if !sent.IsZero() {
			rtt = max(rtt, time.Since(sent))
		}
		answered = 0
		auto, limit := l.autoLimited()
		if !auto {
			continue
		}
		c.limit = limit // NetworkChanged may have dropped it
		if sent.IsZero() && c.wantsRTT(bits) {
			sent = time.Now()
			go keepaliveRTT(conn, sent, replies)
		}
		if limit, carried, change := c.tick(bits, rtt, done); change {
			l.log.Info("the link is full: local xpra clients restart with a bandwidth limit",
				"carried", mbit(carried), "limit", mbit(limit), "best_rtt", c.best.Round(time.Millisecond), "rtt", rtt.Round(time.Millisecond))
			l.setXpraLimit(limit, carried)
		}
	}
}

// receivedCounter returns what counts the bytes the server sent: the
// kernel's count of bytes received on the link's TCP connection when
// there is one, which does not wait for perch to read them (a busy thin
// client reads seconds of picture late, and its reads would make the link
// look faster than it is), else the bytes read (a ProxyCommand's pipe).
func (l *Link) receivedCounter() func() int64 {
	if tc := l.tcp.Load(); tc != nil {
		if _, ok := tcpBytesReceived(tc); ok {
			return func() int64 {
				n, _ := tcpBytesReceived(tc)
				return n
			}
		}
	}
	return l.rx.Load
}

// tcpBytesReceived is the kernel's count of bytes received on c
// (TCP_INFO's bytes_received).
func tcpBytesReceived(c *net.TCPConn) (int64, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var info *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) { info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil || gerr != nil {
		return 0, false
	}
	return int64(info.Bytes_received), true
}

// keepaliveRTT sends one keepalive and reports its round trip.
func keepaliveRTT(conn *liveConn, sent time.Time, replies chan<- time.Duration) {
	// Any reply counts: OpenSSH's sshd answers failure.
	if _, _, err := conn.client.SendRequest("keepalive@openssh.com", true, nil); err == nil {
		select {
		case replies <- time.Since(sent):
		default:
		}
	}
}

// limitArgs is the option a local client starts with for limit (none for 0).
func limitArgs(limit int64) []string {
	if limit <= 0 {
		return nil
	}
	return []string{"--bandwidth-limit=" + strconv.FormatInt(limit, 10)}
}

// mbit words bits/s for people.
func mbit(bps int64) string {
	return fmt.Sprintf("%.1f Mbit/s", float64(bps)/1e6)
}
