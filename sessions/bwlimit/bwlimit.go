// Package bwlimit finds when the SSH link is full under local xpra
// clients' pictures and sets their --bandwidth-limit from what it carries.
//
// Over a unix socket xpra's server cannot see how fast the link is: it
// writes to sshd's socket, which takes whatever it is given, so on a slow
// link the picture
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
package bwlimit

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// UserSet reports whether xpra options set --bandwidth-limit: the limit is
// then the user's, not perch's.
func UserSet(args []string) bool {
	for _, a := range args {
		if a == "--bandwidth-limit" || strings.HasPrefix(a, "--bandwidth-limit=") {
			return true
		}
	}
	return false
}

// Limit is a link's limit for its local clients; its methods may be
// called from any goroutine.
type Limit struct {
	mu      sync.Mutex
	limit   int64         // bits/s; 0: none
	carried int64         // what the link carried when it was set
	changed chan struct{} // closed and replaced when limit changes
}

// NewLimit makes a limit with none set.
func NewLimit() *Limit { return &Limit{changed: make(chan struct{})} }

// Get returns the limit for a client's next start (0: none) and a channel
// closed when it changes.
func (l *Limit) Get() (int64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.changed
}

// Status returns the limit and what the link carried when it was set.
func (l *Limit) Status() (limit, carried int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.carried
}

// Set records a new limit and tells the clients waiting on Get's channel.
func (l *Limit) Set(limit, carried int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit, l.carried = limit, carried
	close(l.changed)
	l.changed = make(chan struct{})
}

// Forget drops the limit (the network changed): clients that start from
// now on start without one; running ones keep theirs.
func (l *Limit) Forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit, l.carried = 0, 0
}

// Args is the option a local client starts with for limit (none for 0).
func Args(limit int64) []string {
	if limit <= 0 {
		return nil
	}
	return []string{"--bandwidth-limit=" + strconv.FormatInt(limit, 10)}
}

// TCPReceived is the kernel's count of bytes received on c (TCP_INFO's
// bytes_received): it does not wait for perch to read them (a busy thin
// client reads seconds of picture late, and its reads would make the link
// look faster than it is).
func TCPReceived(c *net.TCPConn) (int64, bool) {
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

// ReceivedCounter returns what counts the bytes the server sent: the
// kernel's count on tc (TCPReceived) when there is one and it gives one,
// else read (the bytes read: a ProxyCommand's pipe).
func ReceivedCounter(tc *net.TCPConn, read func() int64) func() int64 {
	if tc != nil {
		if _, ok := TCPReceived(tc); ok {
			return func() int64 {
				n, _ := TCPReceived(tc)
				return n
			}
		}
	}
	return read
}

// Mbit words bits/s for people.
func Mbit(bps int64) string {
	return fmt.Sprintf("%.1f Mbit/s", float64(bps)/1e6)
}
