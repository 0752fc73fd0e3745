package sessions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/backoff"
	"golang.org/x/crypto/ssh"

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

	// take (under l.mu): the next start takes the display from wherever
	// it is, unless another location took it less than takeMinAge ago.
	take       bool
	takeMinAge time.Duration
	// ran (under l.mu): its display was claimed for a client of this
	// agent once; otherClient: another xpra client took it since.
	ran, otherClient bool
}

// errOpen is a session channel that could not be opened.
var errOpen = errors.New("open a session channel")

// gateHold is how long after its exec a starting session keeps the start
// gate: long enough for sshd's xauth to finish.
const gateHold = 80 * time.Millisecond

// newSession is called with l.mu held.
func newSession(l *Link, sp Spec) *session {
	return &session{
		l: l, spec: sp, kick: make(chan struct{}, 1), drop: make(chan struct{}, 1), done: make(chan struct{}), take: l.claims.TakeAlways,
		status: api.SessionStatus{Name: sp.Name, Command: sp.Command, State: api.SessionStarting, Since: time.Now()},
	}
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
	log := s.l.log.With("session", s.spec.Name)
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
		if attach, ok := s.claimHere(ctx, conn); !ok {
			return
		} else if !attach {
			continue // it was elsewhere, and is asked back
		}
		runOnce := s.runOnce
		if s.spec.Local.On {
			runOnce = s.runLocal // xpralocal.go
		}
		attached, linkLost, err := runOnce(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errLimitChanged) {
			log.Info("local xpra client restarting with the link's bandwidth limit")
			s.set(api.SessionStarting, "")
			continue
		}
		// A channel that ended without an exit status, or could not open,
		// usually means the connection is going (endedByLink decides), so
		// the session comes back at once on the next one.
		var missing *ssh.ExitMissingError
		if !linkLost && (errors.As(err, &missing) || errors.Is(err, errOpen)) {
			linkLost = conn.endedByLink(ctx, s.l.DeadAfter())
			if ctx.Err() != nil {
				return
			}
		}
		if !linkLost {
			// Displaced by another location is not a failure.
			if moved, ok := s.displaced(ctx, conn); !ok {
				return
			} else if moved {
				continue
			}
		}
		s.l.mu.Lock()
		s.status.Restarts++
		s.l.mu.Unlock()
		if linkLost {
			log.Info("session lost with the link; restarting when it is back")
			s.set(api.SessionStarting, "")
			spread = true
			continue
		}
		if attached >= healthyRun {
			bo.Reset()
		}
		d := bo.Retry()
		msg := err.Error()
		log.Warn("session ended", "err", msg, "restart_in", d.Round(time.Millisecond))
		s.set(api.SessionBackoff, msg)
		if !backoff.Sleep(ctx, d, s.kick) {
			return
		}
	}
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
	sess, err := conn.client.NewSession()
	if err != nil {
		select {
		case <-conn.dead:
			return 0, true, err
		default:
		}
		return 0, false, fmt.Errorf("%w: %w", errOpen, err)
	}
	defer sess.Close()
	out := &xpraclient.Tail{}
	sess.Stdout, sess.Stderr = out, out
	command := remoteCommand(s.spec.Command)
	var server xpraclient.Version
	if lx := s.spec.Local; lx.Remote {
		server = s.l.serverXpra(ctx, conn)
		command = remoteAttach(lx.Display, append(xpraclient.Defaults(server), lx.args()...))
		// One watch per stream: x/crypto/ssh copies each in a goroutine
		// of its own. markAttached acts once.
		sess.Stdout = &xpraclient.LineWatch{W: out, Marker: xpraclient.AttachedMarker, Found: s.markAttached}
		sess.Stderr = &xpraclient.LineWatch{W: out, Marker: xpraclient.AttachedMarker, Found: s.markAttached}
	}
	release := func() {}
	if conn.x11 != nil {
		rel, err := conn.x11.Request(sess, s.spec.Name, s.onX11)
		if err != nil {
			return 0, false, err
		}
		release = rel
		defer release()
		s.l.x11Ready(conn)
	}
	if err := sess.Start(command); err != nil {
		return 0, false, fmt.Errorf("start %q: %w", s.spec.Command, err)
	}
	gate := time.AfterFunc(gateHold, open)
	defer gate.Stop()
	s.began(start)
	defer func() { attached = s.finished() }()

	wait := make(chan error, 1)
	go func() { wait <- sess.Wait() }()
	ended := func() error { return s.end(sess, wait, release) }
	select {
	case err := <-wait:
		reason := exitReason(err, out.LastLines())
		if hint := xpraclient.RemoteHint(out.LastLines(), server); hint != "" && s.spec.Local.Remote {
			reason = fmt.Errorf("%s (%w)", hint, reason)
		}
		return 0, false, &exitErr{reason: reason, cause: err}
	case <-ctx.Done():
		ended()
		return 0, false, ctx.Err()
	case <-s.kick:
		ended()
		return 0, false, errors.New("restart requested")
	case <-s.drop:
		sess.Close()
		return 0, false, errors.New("its display is being taken back")
	case <-conn.dead:
		sess.Close()
		select {
		case <-wait:
		case <-time.After(2 * time.Second):
		}
		return 0, true, errors.New("link lost")
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

// exitReason words a command's end with its last output lines, which is
// where xpra says why it cannot attach.
func exitReason(err error, output string) error {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	var status string
	switch {
	case err == nil:
		status = "exited with status 0"
	case errors.As(err, &ee):
		if ee.Signal() != "" {
			status = "killed by signal " + ee.Signal()
		} else {
			status = fmt.Sprintf("exited with status %d", ee.ExitStatus())
		}
	case errors.As(err, &missing):
		status = "ended without an exit status (connection lost?)"
	default:
		status = err.Error()
	}
	if output != "" {
		return fmt.Errorf("%s: %s", status, output)
	}
	return errors.New(status)
}

// exitErr is a command's end: worded by exitReason, unwrapping to Wait's error.
type exitErr struct {
	reason error
	cause  error
}

func (e *exitErr) Error() string { return e.reason.Error() }
func (e *exitErr) Unwrap() error { return e.cause }

// remoteAttach is remote mode's command for display n: `xpra attach :n`
// with options, each quoted for the login shell.
func remoteAttach(n int, args []string) string {
	cmd := "exec xpra attach :" + strconv.Itoa(n)
	for _, a := range args {
		cmd += " " + xpraclient.ShellQuote(a)
	}
	return cmd
}

// remoteCommand prefixes a simple command with exec, so that the shell sshd
// starts it with is replaced by it and the SIGTERM of a clean stop reaches
// the command itself (sshd signals the shell's pid; without a pty nothing
// else ends an orphaned command). Commands using shell syntax are left as
// written: they can say exec themselves.
func remoteCommand(cmd string) string {
	c := strings.TrimSpace(cmd)
	first, _, _ := strings.Cut(c, " ")
	if c == "" || first == "exec" || strings.Contains(first, "=") || strings.ContainsAny(c, ";&|<>()$`\\\n\"'*?[]{}~#") {
		return cmd
	}
	return "exec " + c
}
