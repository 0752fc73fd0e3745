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

	"github.com/perchdesk/perch/internal/sys/rawconn"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// Spec is a remote command to supervise: a display's `xpra attach :N`, or
// any named command.
type Spec struct {
	Name    string
	Command string
	Local   LocalXpra // On: run xpra's client here (client = "local"), see LocalDisplaySpec
}

// DisplaySpec is the session for xpra display n: named ":n", running
// `xpra attach :n`.
func DisplaySpec(n int) Spec {
	d := ":" + strconv.Itoa(n)
	return Spec{Name: d, Command: "xpra attach " + d}
}

// ForwardSpec is a local port reaching To through the link.
type ForwardSpec struct {
	Listen string // local host:port
	To     string // host:port as seen from the server
}

// Options configure a Link.
type Options struct {
	Server       string  // the server's name, for status and messages
	Target       *Target // where to connect
	Dial         DialOptions
	Keepalive    time.Duration // interval; 0: ServerAliveInterval, else 5 s
	KeepaliveMax int           // missed replies that make the link dead; 0: ServerAliveCountMax, else 3
	X11          *X11Local     // the local display; nil: no X11 forwarding
	Log          *slog.Logger
	// StopTimeout bounds how long a clean stop waits for the remote
	// commands to end after SIGTERM; default 3 s.
	StopTimeout time.Duration

	// dial replaces Dial in tests.
	dial func(context.Context, *Target, DialOptions) (*ssh.Client, DialTimings, error)
}

// liveConn is one established connection.
type liveConn struct {
	client *ssh.Client
	x11    *x11fwd.Forwarder
	claims *claimWatch   // nil when claims are off or the watcher could not start
	dead   chan struct{} // closed once the connection is gone
	upAt   time.Time
}

// Link owns one SSH connection to a server: it dials, keeps it alive,
// reconnects with backoff when it dies, and supervises the sessions and
// forwards that run over it. Run is its owner goroutine; the other methods
// may be called from any goroutine.
type Link struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	status    LinkStatus
	conn      *liveConn
	connCh    chan struct{} // closed and replaced whenever conn or the link state changes
	sessions  []*session
	forwards  []*forward
	runCtx    context.Context
	wg        sync.WaitGroup // session and forward goroutines
	lastAlive atomic.Int64   // unix nanoseconds of the last byte from the server
	rejected  atomic.Int64
	everUp    bool

	changes chan struct{}
	kick    chan struct{}
	started chan struct{} // closed once Run has started (see Started)
	// tcpCancel ends the TCP connect in progress (nil when none), under mu:
	// NetworkChanged starts it over on the network as it now is.
	tcpCancel context.CancelCauseFunc
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
	// claims (under mu): see Claims; off while Location is "".
	claims Claims
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
		o.dial = Dial
	}
	addr := ""
	if o.Target != nil {
		addr = o.Target.Addr()
	}
	return &Link{
		opts: o, log: o.Log.With("server", o.Server),
		status:  LinkStatus{Server: o.Server, Address: addr, State: LinkStopped, Since: time.Now()},
		connCh:  make(chan struct{}),
		changes: make(chan struct{}, 1),
		started: make(chan struct{}),
		kick:    make(chan struct{}, 1),

		startGate: make(chan struct{}, 1),
	}
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
	st := Status{Link: l.status, Sessions: []SessionStatus{}, Forwards: []ForwardStatus{}}
	st.Link.X11Rejected = l.rejected.Load()
	for _, s := range l.sessions {
		st.Sessions = append(st.Sessions, s.status)
	}
	for _, f := range l.forwards {
		st.Forwards = append(st.Forwards, f.status)
	}
	return st
}

// notify must be called with l.mu held.
func (l *Link) notifyLocked() {
	close(l.connCh)
	l.connCh = make(chan struct{})
	select {
	case l.changes <- struct{}{}:
	default:
	}
}

func (l *Link) setState(state string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setStateLocked(state, err)
}

func (l *Link) setStateLocked(state string, err error) {
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

// NetworkChanged tells the link that the machine's network changed (an
// interface came up, an address or a route appeared): a link waiting out
// its backoff after failed connects tries again now. A link that is up, or
// refused for good, is not touched.
func (l *Link) NetworkChanged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.State == LinkDown || l.status.State == LinkConnecting {
		l.freshBackoff = true
	}
	switch {
	case l.status.State == LinkDown:
		// Under mu, so the state cannot move on: from LinkDown the run
		// loop's next step is the backoff sleep, which takes the kick.
		select {
		case l.kick <- struct{}{}:
			l.log.Info("the network changed: connecting now")
		default:
		}
	case l.status.State == LinkConnecting:
		// A connect begun while the network was down fails, or waits
		// seconds for a SYN answer or a neighbour that will never come:
		// the TCP connect starts over now, and a failure of this attempt
		// skips the backoff.
		l.netChanged = true
		if l.tcpCancel != nil {
			l.log.Info("the network changed: starting the TCP connect over")
			l.tcpCancel(errNetworkChanged)
		}
	}
}

// errNetworkChanged ends a TCP connect that NetworkChanged starts over.
var errNetworkChanged = errors.New("the network changed during the TCP connect")

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
		if st == LinkFailed && onFailed != nil {
			onFailed(lastErr)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
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
	l.mu.Unlock()
	for _, s := range stop {
		s.cancel()
	}
	for _, s := range stop {
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
			if s.status.State == StateElsewhere {
				s.take, s.takeMinAge = true, 0 // restarting it here takes it
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

// flapTime: a link that dies sooner than this after connecting counts as
// a failed attempt, so a flapping link backs off.
const flapTime = 2 * time.Second

// errStop ends supervision for a clean stop.
var errStop = errors.New("stopping")

// Started is closed once Run has opened the forwards' listeners and
// started the sessions and forwards; from then on Run returns nil when its
// context ends. A Run that cannot start (a forward cannot listen) returns
// its error without closing it.
func (l *Link) Started() <-chan struct{} { return l.started }

// Run connects and supervises until ctx ends, then stops every session
// (SIGTERM to the remote commands, then closing their channels), closes the
// forwards and the connection, and returns nil. A forward that cannot
// listen says so in its status; the link and the other forwards work on.
func (l *Link) Run(ctx context.Context) error {
	l.listen()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	l.mu.Lock()
	l.runCtx = runCtx
	for _, s := range l.sessions {
		l.startSessionLocked(s)
	}
	for _, f := range l.forwards {
		l.startForwardLocked(f)
	}
	select {
	case <-l.started: // an earlier Run started
	default:
		close(l.started)
	}
	l.mu.Unlock()

	bo := NewBackoff()
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
		err = l.supervise(ctx, conn)
		if errors.Is(err, errStop) || ctx.Err() != nil {
			l.stop(conn)
			break
		}
		if !l.lost(ctx, bo, conn, err) {
			break
		}
	}
	l.closeForwards()
	cancelRun()
	l.wg.Wait()
	l.mu.Lock()
	l.runCtx = nil
	l.mu.Unlock()
	l.setState(LinkStopped, nil)
	return nil
}

// connectFailed waits out a failed connect: until asked when the server
// refused for good, not at all when the network changed meanwhile, else
// the backoff.
func (l *Link) connectFailed(ctx context.Context, bo *Backoff, err error) {
	if permanent(err) {
		l.log.Error("connection refused for good; not retrying until asked", "err", err)
		l.setState(LinkFailed, err)
		bo.Reset()
		sleep(ctx, time.Duration(1<<62), l.kick)
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
	if changed || errors.Is(err, errNetworkChanged) {
		l.log.Info("connect failed while the network changed; trying again now", "err", err)
		return // at once: changes come at most every few seconds (agent.WatchNetwork)
	}
	d := bo.Next()
	l.log.Warn("connect failed", "err", err, "retry_in", d.Round(time.Millisecond))
	l.setState(LinkDown, err)
	sleep(ctx, d, l.kick)
}

// lost drops a connection that died and waits before the next attempt:
// none after the first loss, then the backoff. It reports false when ctx
// ended meanwhile.
func (l *Link) lost(ctx context.Context, bo *Backoff, conn *liveConn, err error) bool {
	l.log.Warn("link lost", "err", err)
	healthy := time.Since(conn.upAt) > flapTime || l.allAttached()
	l.drop(conn, err)
	// The dial itself worked: unless the link flaps (dies within seconds
	// of every connect, before its sessions attached), the next attempt
	// starts afresh.
	if healthy {
		bo.Reset()
	}
	// The first attempt after a loss is immediate; then back off.
	if bo.Attempts() > 0 {
		return sleep(ctx, bo.Next(), l.kick)
	}
	bo.Next()
	return true
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
	l.setStateLocked(LinkConnecting, nil)
}

// allAttached reports whether the link has sessions and all are attached.
func (l *Link) allAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sessions) == 0 {
		return false
	}
	for _, s := range l.sessions {
		if s.status.State != StateAttached {
			return false
		}
	}
	return true
}

// aliveConn records when bytes last arrived from the server.
type aliveConn struct {
	net.Conn
	last *atomic.Int64
}

func (c aliveConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// netDialer dials the server's TCP connection through inner (nil: a
// plain net.Dialer) and records when bytes arrive on it.
func (l *Link) netDialer(inner func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		l.mu.Lock()
		l.tcpCancel = cancel
		l.mu.Unlock()
		var c net.Conn
		var err error
		if inner != nil {
			c, err = inner(ctx, network, addr)
		} else {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
		}
		l.mu.Lock()
		l.tcpCancel = nil
		l.mu.Unlock()
		if err != nil {
			if errors.Is(context.Cause(ctx), errNetworkChanged) {
				return nil, errNetworkChanged
			}
			return nil, err
		}
		// Raw reads and writes underneath (see internal/sys/rawconn): the
		// wrapper hides the socket from Dial's own rawconn.Wrap.
		return aliveConn{rawconn.Wrap(c), &l.lastAlive}, nil
	}
}

func (l *Link) connect(ctx context.Context) (*liveConn, error) {
	opts := l.opts.Dial
	opts.NetDialer = l.netDialer(opts.NetDialer)
	client, tm, err := l.opts.dial(ctx, l.opts.Target, opts)
	if err != nil {
		return nil, err
	}
	conn := &liveConn{client: client, dead: make(chan struct{}), upAt: time.Now()}
	l.lastAlive.Store(time.Now().UnixNano())
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
	l.status.Timings = LinkTimings{TCP: Duration(tm.TCP), Handshake: Duration(tm.Handshake), Auth: Duration(tm.Auth), Total: Duration(tm.Total)}
	l.status.State = LinkUp
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
		l.status.Timings.X11Ready = Duration(time.Since(conn.upAt))
		l.notifyLocked()
	}
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
	silence := func() time.Duration { return time.Since(time.Unix(0, l.lastAlive.Load())) }
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
			return errors.New("reconnect requested")
		case rtt := <-replies:
			outstanding = false
			l.mu.Lock()
			l.status.RTT = Duration(rtt)
			l.mu.Unlock()
		case <-ticker.C:
			if !outstanding {
				outstanding = true
				sent := time.Now()
				go func() {
					// Any reply counts: OpenSSH's sshd answers failure.
					if _, _, err := conn.client.SendRequest("keepalive@openssh.com", true, nil); err == nil {
						select {
						case replies <- time.Since(sent):
						default:
						}
					}
				}()
			}
			dead.Reset(max(limit-silence(), time.Millisecond))
			if conn.claims != nil {
				go conn.claims.tick(interval)
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
	l.status.State = LinkDown
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
		conn.claims.free(time.Second)
	}
	l.drop(conn, errStop)
	<-done
}

// permanent reports errors a retry cannot fix: a host key that does not
// verify, or authentication refused.
func permanent(err error) bool {
	var hk *HostKeyError
	return errors.As(err, &hk) || strings.Contains(err.Error(), "unable to authenticate")
}
