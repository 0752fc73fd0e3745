package sessions

// Local mode (client = "local"): xpra's client runs on this machine and
// xpra's own protocol crosses the link, through a
// direct-streamlocal@openssh.com channel to the display's socket on the
// server. The session is supervised as a remote one is (states, backoff,
// restarts, timings); only what one run does differs (runLocal).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/x11fwd"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// LocalXpra is a display session's xpra client: On, it runs here (local
// mode); Remote, it is `xpra attach :N` on the server (remote mode). It is
// a value (Spec stays comparable), so its list of options is one string.
type LocalXpra struct {
	On      bool
	Remote  bool
	Display int
	// Args are extra `xpra attach` options, separated by NUL bytes.
	Args string
	// Identity tells the server which client this is: local clients with
	// different identities are different clients to xpra (XPRA_USER_UUID,
	// which xpra compares to disconnect "the same client" connecting
	// again). "" is xpra's default: one identity per user and machine.
	// The agent sets it from the location.
	Identity string
}

// LocalDisplaySpec is the session for xpra display n in local mode.
func LocalDisplaySpec(n int, args []string, identity string) Spec {
	d := ":" + strconv.Itoa(n)
	cmd := "xpra attach (local) " + d
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	return Spec{Name: d, Command: cmd, Local: LocalXpra{
		On: true, Display: n, Args: strings.Join(args, "\x00"), Identity: identity,
	}}
}

// args returns the extra options as a list.
func (lx LocalXpra) args() []string {
	if lx.Args == "" {
		return nil
	}
	return strings.Split(lx.Args, "\x00")
}

// uuid is XPRA_USER_UUID for the identity: a hash, so that a location's
// name does not travel as is.
func (lx LocalXpra) uuid() string {
	if lx.Identity == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("perch xpra client\x00" + lx.Identity))
	return hex.EncodeToString(sum[:20])
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
	sock, err := openLocal(ctx, conn, lx.Display)
	if err != nil {
		select {
		case <-conn.dead:
			return 0, true, err
		default:
			return 0, false, err
		}
	}
	defer sock.Close()

	out := &xpraclient.Tail{}
	attachedNow := make(chan struct{})
	var didAttach atomic.Bool
	watch := &xpraclient.LineWatch{W: out, Marker: xpraclient.AttachedMarker, Found: func() {
		didAttach.Store(true)
		s.markAttached()
		close(attachedNow)
	}}
	limit, limitChanged := s.l.xpraLimit(lx)
	args := append(append(xpraclient.Defaults(local), limitArgs(limit)...), lx.args()...)
	cmd := exec.Command(bin, xpraclient.AttachArgs(sock.Path, args)...)
	cmd.Env = xpraclient.Env(localDisplay(s.l.opts.X11), lx.uuid())
	cmd.Stdout, cmd.Stderr = watch, watch
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("start the local xpra: %w", err)
	}
	s.began(start)
	defer func() { attached = s.finished() }()
	wait := make(chan error, 1)
	go func() { wait <- cmd.Wait() }()
	stop := func() { s.stopLocal(cmd, wait) }
	attachBy := time.NewTimer(localAttachTimeout)
	defer attachBy.Stop()
	for {
		select {
		case <-attachedNow:
			attachedNow = nil
			attachBy.Stop()
			continue
		case <-attachBy.C:
			stop()
			return 0, false, fmt.Errorf("the local xpra did not attach within %s: %s", localAttachTimeout, orNothing(out.LastLines()))
		case err := <-wait:
			return s.localEnded(conn, err, out, local, server, didAttach.Load())
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

// stopLocal ends the local client: SIGTERM, on which xpra's client
// disconnects cleanly; SIGKILL to its process group is the backstop.
func (s *session) stopLocal(cmd *exec.Cmd, wait <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-wait:
		return
	case <-time.After(s.l.opts.StopTimeout):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-wait
}

// localEnded words the end of a local client that exited by itself; one
// that never attached, of a version the server's cannot talk to, is told
// so with both versions and what to do.
func (s *session) localEnded(conn *liveConn, err error, out *xpraclient.Tail, local, server xpraclient.Version, wasAttached bool) (time.Duration, bool, error) {
	// The client's connection ends with the link: tell a lost link from
	// xpra's own end (endedByLink asks the server).
	if conn.endedByLink(context.Background(), s.l.DeadAfter()) {
		return 0, true, errors.New("link lost")
	}
	reason := xpraclient.ExitReason(err, out.LastLines())
	if !wasAttached {
		if why := xpraclient.Incompatible(local, server); why != "" {
			return 0, false, &xpraclient.ExitError{Reason: fmt.Errorf("%s (%w)", why, reason), Cause: err}
		}
	}
	return 0, false, reason
}

// orNothing is output, or says there was none.
func orNothing(output string) string {
	if output == "" {
		return "it printed nothing"
	}
	return "its last words: " + output
}

// errLimitChanged ends a local client that starts again at once with the
// link's new bandwidth limit (bandwidth.go).
var errLimitChanged = errors.New("restart with the link's new bandwidth limit")

// openLocal finds display n's socket on the server, checks that it
// answers and exposes it here as a private socket.
func openLocal(ctx context.Context, conn *liveConn, n int) (*xpraclient.PrivateSocket, error) {
	path, err := xpraclient.FindSocket(ctx, conn.client, n)
	if errors.Is(err, xpraclient.ErrSession) {
		return nil, fmt.Errorf("%w: %w", errOpen, err)
	}
	if err != nil {
		return nil, err
	}
	// A first channel tells a refused forward or a dead socket apart, and
	// is closed at once: the client gets a channel of its own for each
	// connection it makes, when it makes it.
	first, err := xpraclient.DialStreamLocal(ctx, conn.client, path)
	var oe *ssh.OpenChannelError
	switch {
	case errors.As(err, &oe) && oe.Reason == ssh.Prohibited:
		return nil, fmt.Errorf("display :%d: the server refuses to forward unix sockets (sshd_config: AllowStreamLocalForwarding, DisableForwarding): %w", n, err)
	case err != nil:
		return nil, fmt.Errorf("display :%d: the xpra socket %s on the server does not answer (is its xpra server running?): %w", n, path, err)
	}
	first.Close()
	return xpraclient.ListenPrivate(func() (net.Conn, error) { return xpraclient.DialStreamLocal(ctx, conn.client, path) })
}

// localDisplay is the display the local client draws on ("": $DISPLAY).
func localDisplay(x11 *x11fwd.Local) string {
	if x11 == nil {
		return ""
	}
	return x11.Display
}
