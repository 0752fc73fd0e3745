package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/backoff"
	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/remotecmd"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// healthyRun is how long a session must stay attached for its backoff to
// start again from the beginning.
const healthyRun = time.Minute

// session supervises one remote command on the link's connection: start,
// watch, restart with backoff. Its status lives under the link's mutex.
type session struct {
	l      *Link
	spec   Spec
	status api.SessionStatus
	kick   chan struct{}
	// drop ends a run at once, without waiting for the command: its
	// display was taken by another location and is being taken back.
	drop   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	// set under l.mu while a run is going on
	execAt     time.Time
	attachedAt time.Time
	openGate   func()

	// claim is its display's side of the claims (nil: not a display).
	claim *claims.Session
}

// errOpen is a session channel that could not be opened.
var errOpen = errors.New("open a session channel")

// gateHold is how long after its exec a starting session keeps the start
// gate: long enough for sshd's xauth to finish.
const gateHold = 80 * time.Millisecond

// newSession is called with l.mu held.
func newSession(l *Link, sp Spec) *session {
	s := &session{
		l: l, spec: sp, kick: make(chan struct{}, 1), drop: make(chan struct{}, 1), done: make(chan struct{}),
		status: api.SessionStatus{Name: sp.Name, Command: sp.Command, State: api.SessionStarting, Since: time.Now()},
	}
	if d, ok := claims.DisplayOf(sp.Name); ok {
		s.claim = claims.NewSession(d, sp.Name, l.claims.TakeAlways, s.showElsewhere, l.log)
	}
	return s
}

// claimConn is conn as the session's claims see it.
func (s *session) claimConn(conn *liveConn) claims.Conn {
	return claims.Conn{W: conn.claims, Gone: conn.dead, Wake: s.kick}
}

func (s *session) set(state api.SessionState, lastErr string) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if s.status.State != state {
		s.status.Since = time.Now()
	}
	s.status.State = state
	s.status.HeldBy = ""
	if lastErr != "" {
		s.status.LastError = lastErr
	}
	s.l.notifyLocked()
}

// run is the session's supervisor goroutine; it ends when ctx ends.
func (s *session) run(ctx context.Context) {
	defer close(s.done)
	defer s.set(api.SessionStopped, "")
	bo := s.l.newBackoff()
	spread := false // the link came back: start at a random point of a short window
	for {
		conn := s.l.waitConn(ctx, func(reason string) { s.set(api.SessionFailed, "the link failed: "+reason) })
		if conn == nil {
			return
		}
		if spread {
			// Every seat of a room restarts its sessions after a server
			// restart: spread them, as the links are.
			spread = false
			if !backoff.Sleep(ctx, bo.Spread(), s.kick) {
				return
			}
		}
		if s.claim != nil {
			if attach, ok := s.claim.Here(ctx, s.claimConn(conn)); !ok {
				return
			} else if !attach {
				continue // it was elsewhere, and is asked back
			}
		}
		runOnce := s.runOnce
		if s.spec.Local.On {
			runOnce = s.runLocal // xpralocal.go
		}
		attached, linkLost, err := runOnce(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		var ok bool
		if spread, ok = s.ended(ctx, conn, bo, attached, linkLost, err); !ok {
			return
		}
	}
}

// ended decides what follows a run that ended (after attached, linkLost,
// err: runOnce's results): a client with a new bandwidth limit starts
// again at once, a display taken elsewhere waits there, a run the link
// ended starts again when it is back (spread), anything else backs off.
// ok is false when ctx ended.
func (s *session) ended(ctx context.Context, conn *liveConn, bo *backoff.Backoff, attached time.Duration, linkLost bool, err error) (spread, ok bool) {
	log := s.l.log.With("session", s.spec.Name)
	if errors.Is(err, errLimitChanged) {
		log.Info("local xpra client restarting with the link's bandwidth limit")
		s.set(api.SessionStarting, "")
		return false, true
	}
	// A channel that ended without an exit status, or could not open,
	// usually means the connection is going (endedByLink decides), so
	// the session comes back at once on the next one.
	var missing *ssh.ExitMissingError
	if !linkLost && (errors.As(err, &missing) || errors.Is(err, errOpen)) {
		linkLost = conn.endedByLink(ctx, s.l.DeadAfter())
		if ctx.Err() != nil {
			return false, false
		}
	}
	if !linkLost && s.claim != nil {
		// Displaced by another location is not a failure.
		if moved, ok := s.claim.Displaced(ctx, s.claimConn(conn)); !ok || moved {
			return false, ok
		}
	}
	s.l.mu.Lock()
	s.status.Restarts++
	s.l.mu.Unlock()
	if linkLost {
		log.Info("session lost with the link; restarting when it is back")
		s.set(api.SessionStarting, "")
		return true, true
	}
	if attached >= healthyRun {
		bo.Reset()
	}
	d := bo.Retry()
	msg := err.Error()
	log.Warn("session ended", "err", msg, "restart_in", d.Round(time.Millisecond))
	s.set(api.SessionBackoff, msg)
	return false, backoff.Sleep(ctx, d, s.kick)
}

// onX11 is called by the X11 forwarder for each connection carrying this
// session's cookie: it proves sshd's xauth is done (the start gate
// opens); for a named command the first one means attached. A display's
// `xpra attach` connects to X before its handshake, also when it then
// fails: it is attached when it says so (runOnce).
func (s *session) onX11() {
	s.l.mu.Lock()
	if s.openGate != nil {
		go s.openGate()
	}
	s.l.mu.Unlock()
	if !s.spec.Local.Remote {
		s.markAttached()
	}
}

// enterGate waits for the link's start gate: one session starts at a time
// (see Link.startGate); the gate opens gateHold after the command started
// (sshd's xauth takes a few ms), or as soon as its first X11 connection
// proves xauth is done. open releases it (once).
func (s *session) enterGate(ctx context.Context, conn *liveConn) (open func(), linkLost bool, err error) {
	select {
	case s.l.startGate <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-conn.dead:
		return nil, true, errors.New("link lost")
	}
	var once sync.Once
	open = func() { once.Do(func() { <-s.l.startGate }) }
	s.l.mu.Lock()
	s.openGate = open
	s.l.mu.Unlock()
	return open, false, nil
}

// end stops a running remote command: SIGTERM lets it leave cleanly (xpra
// detaches); then its X clients lose their display and the channel is
// closed as the backstop.
func (s *session) end(sess *ssh.Session, wait <-chan error, release func()) error {
	_ = sess.Signal(ssh.SIGTERM)
	select {
	case err := <-wait:
		return err
	case <-time.After(s.l.opts.StopTimeout):
	}
	release() // its X clients lose their display
	sess.Close()
	select {
	case err := <-wait:
		return err
	case <-time.After(2 * time.Second):
		return errors.New("the remote command did not end")
	}
}

// began records that the run's command started; start is when the run
// began.
func (s *session) began(start time.Time) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.execAt = time.Now()
	s.attachedAt = time.Time{}
	s.status.Timings.Start = api.Duration(time.Since(start))
}

// finished records that the run's command ended and returns how long it
// stayed attached.
func (s *session) finished() time.Duration {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	var d time.Duration
	if !s.attachedAt.IsZero() {
		d = time.Since(s.attachedAt)
	}
	s.execAt = time.Time{}
	return d
}

// runOnce runs the command once. It returns how long it stayed attached,
// whether it ended because the link was lost, and why it ended.
func (s *session) runOnce(ctx context.Context, conn *liveConn) (attached time.Duration, linkLost bool, err error) {
	s.set(api.SessionStarting, "")
	select {
	case <-s.drop: // meant for a run that has ended
	default:
	}
	open, linkLost, err := s.enterGate(ctx, conn)
	if err != nil {
		return 0, linkLost, err
	}
	defer open()
	start := time.Now()
	r, linkLost, err := s.startRemote(ctx, conn)
	if err != nil {
		return 0, linkLost, err
	}
	defer r.close()
	gate := time.AfterFunc(gateHold, open)
	defer gate.Stop()
	s.began(start)
	defer func() { attached = s.finished() }()
	linkLost, err = s.waitRemote(ctx, conn, r)
	return 0, linkLost, err
}

// remoteRun is one run of a remote command.
type remoteRun struct {
	sess    *ssh.Session
	out     *xpraclient.Tail
	server  xpraclient.Version // the server's xpra (remote mode)
	release func()             // ends its X11 forwarding: its X clients lose their display
	wait    chan error         // its Wait's error
}

func (r *remoteRun) close() {
	r.release()
	r.sess.Close()
}

// startRemote opens a session channel, with X11 forwarding, and starts
// the command in it; linkLost: the channel could not open because the
// link went.
func (s *session) startRemote(ctx context.Context, conn *liveConn) (r *remoteRun, linkLost bool, err error) {
	sess, err := conn.client.NewSession()
	if err != nil {
		select {
		case <-conn.dead:
			return nil, true, err
		default:
		}
		return nil, false, fmt.Errorf("%w: %w", errOpen, err)
	}
	r = &remoteRun{sess: sess, out: &xpraclient.Tail{}, release: func() {}, wait: make(chan error, 1)}
	sess.Stdout, sess.Stderr = r.out, r.out
	command := remotecmd.Shape(s.spec.Command)
	if lx := s.spec.Local; lx.Remote {
		r.server = s.l.serverXpra(ctx, conn)
		command = xpraclient.RemoteAttach(lx.Display, append(xpraclient.Defaults(r.server), lx.Options()...))
		// One watch per stream: x/crypto/ssh copies each in a goroutine
		// of its own. markAttached acts once.
		sess.Stdout = &xpraclient.LineWatch{W: r.out, Marker: xpraclient.AttachedMarker, Found: s.markAttached}
		sess.Stderr = &xpraclient.LineWatch{W: r.out, Marker: xpraclient.AttachedMarker, Found: s.markAttached}
	}
	if conn.x11 != nil {
		rel, err := conn.x11.Request(sess, s.spec.Name, s.onX11)
		if err != nil {
			sess.Close()
			return nil, false, err
		}
		r.release = rel
		s.l.x11Ready(conn)
	}
	if err := sess.Start(command); err != nil {
		r.close()
		return nil, false, fmt.Errorf("start %q: %w", s.spec.Command, err)
	}
	go func() { r.wait <- sess.Wait() }()
	return r, false, nil
}

// waitRemote waits for the run's end: its own (worded with its last
// output), a stop or restart asked for (end), its display taken back, or
// the link lost.
func (s *session) waitRemote(ctx context.Context, conn *liveConn, r *remoteRun) (linkLost bool, err error) {
	select {
	case err := <-r.wait:
		reason := remotecmd.Ended(err, r.out.LastLines())
		if hint := xpraclient.RemoteHint(r.out.LastLines(), r.server); hint != "" && s.spec.Local.Remote {
			reason = fmt.Errorf("%s (%w)", hint, reason)
		}
		return false, &xpraclient.ExitError{Reason: reason, Cause: err}
	case <-ctx.Done():
		s.end(r.sess, r.wait, r.release)
		return false, ctx.Err()
	case <-s.kick:
		s.end(r.sess, r.wait, r.release)
		return false, errors.New("restart requested")
	case <-s.drop:
		r.sess.Close()
		return false, errors.New("its display is being taken back")
	case <-conn.dead:
		r.sess.Close()
		select {
		case <-r.wait:
		case <-time.After(2 * time.Second):
		}
		return true, errors.New("link lost")
	}
}

// markAttached moves a starting session to attached: xpra's handshake is
// done (the client said xpraclient.AttachedMarker), or a named command
// opened its first X11 connection. Only this clears the last error.
func (s *session) markAttached() {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if s.status.State == api.SessionStarting && !s.execAt.IsZero() {
		s.status.State = api.SessionAttached
		s.status.Since = time.Now()
		s.attachedAt = time.Now()
		s.status.Timings.FirstX11 = api.Duration(time.Since(s.execAt))
		s.status.LastError = ""
		s.l.log.Info("session attached", "session", s.spec.Name, "first_x11", time.Since(s.execAt).Round(time.Millisecond))
		s.l.notifyLocked()
	}
}
