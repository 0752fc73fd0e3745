package sessions

// Local mode (client = "local"): xpra's client runs on this machine and
// xpra's own protocol crosses the link, through a
// direct-streamlocal@openssh.com channel to the display's socket on the
// server. The session is supervised as a remote one is (states, backoff,
// restarts, timings); only what one run does differs (runLocal).

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/bwlimit"
	"github.com/perchdesk/perch/sessions/x11fwd"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// LocalDisplaySpec is the session for xpra display n in local mode.
func LocalDisplaySpec(n int, args []string, identity string) Spec {
	d := ":" + strconv.Itoa(n)
	cmd := "xpra attach (local) " + d
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	return Spec{Name: d, Command: cmd, Local: xpraclient.Attach{
		On: true, Display: n, Args: strings.Join(args, "\x00"), Identity: identity,
	}}
}

// localAttachTimeout bounds how long a local client may take to be
// accepted by the server (xpra's own connect has no bound); a variable
// for tests.
var localAttachTimeout = time.Minute

// runLocal runs the local xpra client once, as runOnce runs a remote
// command; its return values mean the same.
func (s *session) runLocal(ctx context.Context, conn *liveConn) (attached time.Duration, linkLost bool, err error) {
	s.set(api.SessionStarting, "")
	lx := s.spec.Local
	bin, err := exec.LookPath(xpraclient.Binary)
	if err != nil {
		return 0, false, xpraclient.ErrNotInstalled
	}
	// An xpra that does not say its version still runs: with the
	// defaults every version takes, and no words about the pair.
	local, err := xpraclient.LocalVersion(ctx, bin)
	if err != nil {
		s.l.log.Warn("the local xpra does not say its version", "err", err)
	}
	s.l.setLocalXpra(local)
	server := s.l.serverXpra(ctx, conn) // once per link: for the status, and a refusal's words
	start := time.Now()
	sock, err := xpraclient.OpenSocket(ctx, conn.client, lx.Display)
	if err != nil {
		if errors.Is(err, xpraclient.ErrSession) {
			err = fmt.Errorf("%w: %w", errOpen, err)
		}
		select {
		case <-conn.dead:
			return 0, true, err
		default:
			return 0, false, err
		}
	}
	defer sock.Close()
	limit, limitChanged := s.l.xpraLimit(lx)
	p, err := xpraclient.Local{
		Bin: bin, Socket: sock.Path, Args: append(append(xpraclient.Defaults(local), bwlimit.Args(limit)...), lx.Options()...),
		Display: localDisplay(s.l.opts.X11), UUID: xpraclient.UUID(lx.Identity), OnAttached: s.markAttached,
	}.Start()
	if err != nil {
		return 0, false, err
	}
	s.began(start)
	defer func() { attached = s.finished() }()
	stop := func() { p.Stop(s.l.opts.StopTimeout) }
	attachBy := time.NewTimer(localAttachTimeout)
	defer attachBy.Stop()
	attachedNow := p.Attached()
	for {
		select {
		case <-attachedNow:
			attachedNow = nil
			attachBy.Stop()
		case <-attachBy.C:
			stop()
			return 0, false, p.NotAttached(localAttachTimeout)
		case err := <-p.Done():
			return s.localEnded(conn, err, p, local, server)
		case <-ctx.Done():
			stop()
			return 0, false, ctx.Err()
		case <-s.kick:
			stop()
			return 0, false, errors.New("restart requested")
		case <-limitChanged:
			stop()
			return 0, false, errLimitChanged
		case <-conn.dead:
			sock.Close()
			stop()
			return 0, true, errors.New("link lost")
		}
	}
}

// localEnded words the end of a local client that exited by itself; one
// that never attached, of a version the server's cannot talk to, is told
// so with both versions and what to do.
func (s *session) localEnded(conn *liveConn, err error, p *xpraclient.Proc, local, server xpraclient.Version) (time.Duration, bool, error) {
	// The client's connection ends with the link: tell a lost link from
	// xpra's own end (endedByLink asks the server).
	if conn.endedByLink(context.Background(), s.l.DeadAfter()) {
		return 0, true, errors.New("link lost")
	}
	reason := xpraclient.ExitReason(err, p.LastLines())
	if !p.WasAttached() {
		if why := xpraclient.Incompatible(local, server); why != "" {
			return 0, false, &xpraclient.ExitError{Reason: fmt.Errorf("%s (%w)", why, reason), Cause: err}
		}
	}
	return 0, false, reason
}

// errLimitChanged ends a local client that starts again at once with the
// link's new bandwidth limit (bandwidth.go).
var errLimitChanged = errors.New("restart with the link's new bandwidth limit")

// localDisplay is the display the local client draws on ("": $DISPLAY).
func localDisplay(x11 *x11fwd.Local) string {
	if x11 == nil {
		return ""
	}
	return x11.Display
}
