package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/alive"
	"github.com/perchdesk/perch/sessions/bwlimit"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/forward"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// Spec is a remote command to supervise: a display's `xpra attach :N`, or
// any named command.
type Spec struct {
	Name    string
	Command string
	Local   xpraclient.Attach // a display's xpra client: here (On, client = "local") or on the server (Remote)
}

// DisplaySpec is the session for xpra display n: named ":n", running
// `xpra attach :n` on the server with perch's client defaults
// (xpraclient.Defaults) and then args, which win.
func DisplaySpec(n int, args ...string) Spec {
	d := ":" + strconv.Itoa(n)
	cmd := "xpra attach " + d
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	return Spec{Name: d, Command: cmd, Local: xpraclient.Attach{Remote: true, Display: n, Args: strings.Join(args, "\x00")}}
}

// Options configure a Link.
type Options struct {
	Server       string          // the server's name, for status and messages
	Target       *sshconf.Target // where to connect
	Dial         sshdial.Options
	Keepalive    time.Duration // interval; 0: ServerAliveInterval, else 5 s
	KeepaliveMax int           // missed replies that make the link dead; 0: ServerAliveCountMax, else 3
	X11          *x11fwd.Local // the local display; nil: no X11 forwarding
	Log          *slog.Logger
	// StopTimeout bounds how long a clean stop waits for the remote
	// commands to end after SIGTERM; default 3 s.
	StopTimeout time.Duration

	// dial replaces Dial in tests.
	dial func(context.Context, *sshconf.Target, sshdial.Options) (*ssh.Client, sshdial.Timings, error)
	// rand, when set, is the backoffs' random source in [0,1) (tests).
	rand func() float64
}

// liveConn is one established connection.
type liveConn struct {
	client *ssh.Client
	x11    *x11fwd.Forwarder
	claims *claims.Watcher // nil when claims are off or the watcher could not start
	dead   chan struct{}   // closed once the connection is gone
	upAt   time.Time
	pinger *alive.Pinger
}

// ping sends one keepalive (the link's one sender: see alive.Pinger).
func (c *liveConn) ping() (time.Duration, error) { return c.pinger.Ping() }

// endedByLink tells whether the link ended a command that ended without
// an exit of its own (see alive.EndedByLink).
func (c *liveConn) endedByLink(ctx context.Context, deadAfter time.Duration) bool {
	return alive.EndedByLink(ctx, c.pinger, c.dead, deadAfter)
}

// Link owns one SSH connection to a server: it dials, keeps it alive,
// reconnects with backoff when it dies, and supervises the sessions and
// forwards that run over it. Run is its owner goroutine; the other methods
// may be called from any goroutine.
type Link struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	status   api.LinkStatus
	conn     *liveConn
	connCh   chan struct{} // closed and replaced whenever conn or the link state changes
	sessions []*session
	forwards *forward.Set
	runCtx   context.Context
	wg       sync.WaitGroup              // session and forward goroutines
	from     alive.Counter               // the server's bytes
	tcp      atomic.Pointer[net.TCPConn] // the last connection's TCP socket, if it has one
	bw       *bwlimit.Limit              // local xpra clients' bandwidth limit
	rejected atomic.Int64
	everUp   bool

	changes chan struct{}
	kick    chan struct{}
	started chan struct{} // closed once Run has started (see Started)
	// tcpDial makes the TCP connections: NetworkChanged starts the connect
	// in progress over on the network as it now is.
	tcpDial *sshdial.Restartable
	// netChanged: the network changed during the connect in progress
	// (under mu); if that connect fails, the next one starts at once.
	netChanged bool
	// freshBackoff: the network changed since the last failed connect
	// (under mu); the backoff starts afresh, as for a new network.
	freshBackoff bool
	// startGate lets one session at a time start its command with X11
	// forwarding: sshd runs xauth for each, and concurrent xauth runs on
	// one ~/.Xauthority collide on its lock and sleep 2 s.
	startGate chan struct{}
	// claims (under mu): see claims.Config; off while Location is "".
	claims claims.Config
	// xv: the server's xpra version, asked once per link.
	xv xpraclient.ServerVersion
}

// New makes a link; nothing happens until Run.
func New(o Options) *Link {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 3 * time.Second
	}
	if o.Keepalive == 0 {
		o.Keepalive = 5 * time.Second
		if o.Target != nil && o.Target.ServerAliveInterval > 0 {
			o.Keepalive = o.Target.ServerAliveInterval
		}
	}
	if o.KeepaliveMax == 0 {
		o.KeepaliveMax = 3
		if o.Target != nil && o.Target.ServerAliveCountMax > 0 {
			o.KeepaliveMax = o.Target.ServerAliveCountMax
		}
	}
	if o.dial == nil {
		o.dial = sshdial.Dial
	}
	addr := ""
	if o.Target != nil {
		addr = o.Target.Addr()
	}
	l := &Link{
		opts: o, log: o.Log.With("server", o.Server),
		status:  api.LinkStatus{Server: o.Server, Address: addr, State: api.LinkStopped, Since: time.Now()},
		connCh:  make(chan struct{}),
		changes: make(chan struct{}, 1),
		started: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		bw:      bwlimit.NewLimit(),

		startGate: make(chan struct{}, 1),
	}
	l.tcpDial = &sshdial.Restartable{Inner: o.Dial.NetDialer, Made: func(c net.Conn) {
		if tc, ok := c.(*net.TCPConn); ok {
			l.tcp.Store(tc)
		}
	}}
	l.forwards = forward.NewSet(l.forwardVia, l.notify, l.log)
	return l
}

// Changes signals (coalesced) every change of the status.
func (l *Link) Changes() <-chan struct{} { return l.changes }

// DeadAfter is how long the link may stay silent before it counts as
// dead: the keepalive interval times the replies that may be missed.
func (l *Link) DeadAfter() time.Duration {
	return l.opts.Keepalive * time.Duration(l.opts.KeepaliveMax)
}

// Status returns a copy of the whole state.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Status{Link: l.status, Sessions: []api.SessionStatus{}, Forwards: l.forwards.Status()}
	st.Link.X11Rejected = l.rejected.Load()
	st.Link.XpraLimit, st.Link.Carried = l.bw.Status()
	for _, s := range l.sessions {
		st.Sessions = append(st.Sessions, s.status)
	}
	return st
}

// notify tells Changes' reader (and waitConn's waiters) of a change.
func (l *Link) notify() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notifyLocked()
}

// notifyLocked is notify with l.mu held.
func (l *Link) notifyLocked() {
	close(l.connCh)
	l.connCh = make(chan struct{})
	select {
	case l.changes <- struct{}{}:
	default:
	}
}

func (l *Link) setState(state api.LinkState, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setStateLocked(state, err)
}

func (l *Link) setStateLocked(state api.LinkState, err error) {
	if l.status.State != state {
		l.status.Since = time.Now()
	}
	l.status.State = state
	if err != nil {
		l.status.LastError = err.Error()
	}
	l.notifyLocked()
}

// Reconnect drops the connection (or ends a wait) and connects again now.
func (l *Link) Reconnect() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// SetSessions makes the supervised sessions those of specs: sessions with
// the same name and command keep running untouched (their restart count
// does not move); the others stop or start.
func (l *Link) SetSessions(specs []Spec) {
	l.mu.Lock()
	var keep []*session
	var stop []*session
	for _, s := range l.sessions {
		if slices.Contains(specs, s.spec) {
			keep = append(keep, s)
		} else {
			stop = append(stop, s)
		}
	}
	for _, sp := range specs {
		if !slices.ContainsFunc(keep, func(s *session) bool { return s.spec == sp }) {
			s := newSession(l, sp)
			keep = append(keep, s)
			if l.runCtx != nil {
				l.startSessionLocked(s)
			}
		}
	}
	// Keep the order of specs.
	slices.SortStableFunc(keep, func(a, b *session) int {
		return slices.Index(specs, a.spec) - slices.Index(specs, b.spec)
	})
	l.sessions = keep
	l.notifyLocked()
	// Only sessions Run started have a goroutine to end; the others
	// (set and removed before Run) just go.
	var started []*session
	for _, s := range stop {
		if s.cancel != nil {
			started = append(started, s)
		}
	}
	l.mu.Unlock()
	for _, s := range started {
		s.cancel()
	}
	for _, s := range started {
		<-s.done
	}
}

func (l *Link) startSessionLocked(s *session) {
	ctx, cancel := context.WithCancel(l.runCtx)
	s.cancel = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		s.run(ctx)
	}()
}

// RestartSession restarts one session now (its backoff is skipped).
func (l *Link) RestartSession(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.spec.Name == name {
			if s.status.State == api.SessionElsewhere && s.claim != nil {
				s.claim.Ask(0) // restarting it here takes it
			}
			select {
			case s.kick <- struct{}{}:
			default:
			}
			return nil
		}
	}
	return fmt.Errorf("no session %q", name)
}

// Started is closed once Run has opened the forwards' listeners and
// started the sessions and forwards. Nothing stops the start: a forward
// that cannot listen says so in its status, a server that cannot be
// reached in the link's, and the link works on until Run's context ends.
func (l *Link) Started() <-chan struct{} { return l.started }

// Run connects and supervises until ctx ends, then stops every session
// (SIGTERM to the remote commands, then closing their channels), closes the
// forwards and the connection, and returns. It always starts (see
// Started): what fails is reported in Status.
func (l *Link) Run(ctx context.Context) {
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	l.forwards.Start(runCtx)
	l.mu.Lock()
	l.runCtx = runCtx
	for _, s := range l.sessions {
		l.startSessionLocked(s)
	}
	select {
	case <-l.started: // an earlier Run started
	default:
		close(l.started)
	}
	l.mu.Unlock()

	bo := l.newBackoff()
	for ctx.Err() == nil {
		l.beginConnect()
		conn, err := l.connect(ctx)
		if ctx.Err() != nil {
			if conn != nil {
				l.stop(conn)
			}
			break
		}
		if err != nil {
			l.connectFailed(ctx, bo, err)
			continue
		}
		err = l.superviseWatched(ctx, conn)
		if errors.Is(err, errStop) || ctx.Err() != nil {
			l.stop(conn)
			break
		}
		if !l.lost(ctx, bo, conn, err) {
			break
		}
	}
	l.forwards.Stop()
	cancelRun()
	l.wg.Wait()
	l.mu.Lock()
	l.runCtx = nil
	l.mu.Unlock()
	l.setState(api.LinkStopped, nil)
}

// allAttached reports whether the link has sessions and all are attached.
func (l *Link) allAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sessions) == 0 {
		return false
	}
	for _, s := range l.sessions {
		if s.status.State != api.SessionAttached {
			return false
		}
	}
	return true
}

// SetForwards makes the forwards those of specs, at any time (see
// forward.Set.Update): a forward that cannot listen says so in its status.
func (l *Link) SetForwards(specs []forward.Spec) {
	l.forwards.Update(specs)
}

// ForwardAddrs returns the local addresses the forwards listen on (after
// Run has started them; ":0" ports are resolved).
func (l *Link) ForwardAddrs() []string { return l.forwards.Addrs() }

// forwardVia is the forwards' way through the link: the connection, once
// it is up.
func (l *Link) forwardVia(ctx context.Context) (func(context.Context, string, string) (net.Conn, error), <-chan struct{}, bool) {
	conn := l.waitConn(ctx, nil)
	if conn == nil {
		return nil, nil, false
	}
	return conn.client.DialContext, conn.dead, true
}
