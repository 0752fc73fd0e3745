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
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/perchdesk/perch/api"
	"golang.org/x/crypto/ssh"
)

// LocalXpra marks a display session as local: xpra's client runs here.
// It is a value (Spec stays comparable), so its list of options is one
// string.
type LocalXpra struct {
	On      bool
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

// xpraBinary is the local xpra; a variable for tests.
var xpraBinary = "xpra"

// errNoLocalXpra: the thin client has no xpra.
var errNoLocalXpra = errors.New(`client = "local" runs xpra on this machine, but xpra is not installed: ` +
	`install the Debian package xpra (apt install xpra), or use client = "remote"`)

// attachedMarker is what xpra's client logs once the server accepted it
// ("Xpra X11 server version 3.1.3 64-bit"): the session is attached.
const attachedMarker = " server version "

// runLocal runs the local xpra client once, as runOnce runs a remote
// command; its return values mean the same.
func (s *session) runLocal(ctx context.Context, conn *liveConn) (attached time.Duration, linkLost bool, err error) {
	s.set(api.SessionStarting, "")
	lx := s.spec.Local
	bin, err := exec.LookPath(xpraBinary)
	if err != nil {
		return 0, false, errNoLocalXpra
	}
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
	defer sock.close()

	out := &tail{}
	attachedNow := make(chan struct{})
	watch := &lineWatch{w: out, marker: attachedMarker, found: func() { s.markAttached(); close(attachedNow) }}
	limit, limitChanged := s.l.xpraLimit(lx)
	cmd := exec.Command(bin, xpraAttachArgs(sock.path, append(limitArgs(limit), lx.args()...))...)
	cmd.Env = localXpraEnv(s.l.opts.X11, lx.uuid())
	cmd.Stdout, cmd.Stderr = watch, watch
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("start the local xpra: %w", err)
	}
	s.began(start)
	defer func() { attached = s.finished() }()
	wait := make(chan error, 1)
	go func() { wait <- cmd.Wait() }()
	attachBy := time.NewTimer(localAttachTimeout)
	defer attachBy.Stop()
	stop := func() {
		// SIGTERM: xpra's client disconnects cleanly; SIGKILL to its
		// process group is the backstop.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-wait:
			return
		case <-time.After(s.l.opts.StopTimeout):
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-wait
	}
	for {
		select {
		case <-attachedNow:
			attachedNow = nil
			attachBy.Stop()
			continue
		case <-attachBy.C:
			stop()
			return 0, false, fmt.Errorf("the local xpra did not attach within %s: %s", localAttachTimeout, orNothing(out.lastLines()))
		case err := <-wait:
			return s.localEnded(conn, err, out)
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
			sock.close()
			stop()
			return 0, true, errors.New("link lost")
		}
	}
}

// localEnded words the end of a local client that exited by itself.
func (s *session) localEnded(conn *liveConn, err error, out *tail) (time.Duration, bool, error) {
	// The client's connection ends with the link: tell a lost link from
	// xpra's own end (endedByLink asks the server).
	if conn.endedByLink(context.Background(), s.l.DeadAfter()) {
		return 0, true, errors.New("link lost")
	}
	return 0, false, localExitReason(err, out.lastLines())
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
func openLocal(ctx context.Context, conn *liveConn, n int) (*privateSocket, error) {
	path, err := findXpraSocket(ctx, conn.client, n)
	if err != nil {
		return nil, err
	}
	first, err := dialStreamLocal(ctx, conn.client, path)
	var oe *ssh.OpenChannelError
	switch {
	case errors.As(err, &oe) && oe.Reason == ssh.Prohibited:
		return nil, fmt.Errorf("display :%d: the server refuses to forward unix sockets (sshd_config: AllowStreamLocalForwarding, DisableForwarding): %w", n, err)
	case err != nil:
		return nil, fmt.Errorf("display :%d: the xpra socket %s on the server does not answer (is its xpra server running?): %w", n, path, err)
	}
	sock, err := listenPrivate(first, func() (net.Conn, error) { return dialStreamLocal(ctx, conn.client, path) })
	if err != nil {
		first.Close()
		return nil, err
	}
	return sock, nil
}

// markAttached moves a starting session to attached (the first X11
// connection of a remote client, xpra's handshake of a local one).
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

// xpraAttachArgs is the local client's command line: the private socket,
// no mmap (client and server are on different machines; the socket is a
// tunnel), then the user's options, which win.
func xpraAttachArgs(socket string, extra []string) []string {
	return append([]string{"attach", "socket://" + socket, "--mmap=no"}, extra...)
}

// localXpraEnv is the client's environment: ours, with the display
// perch manages and the identity.
func localXpraEnv(x11 *X11Local, uuid string) []string {
	env := os.Environ()
	if x11 != nil && x11.Display != "" {
		env = setEnv(env, "DISPLAY", x11.Display)
	}
	if uuid != "" {
		env = setEnv(env, "XPRA_USER_UUID", uuid)
	}
	return env
}

// setEnv returns env with k set to v.
func setEnv(env []string, k, v string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, k+"=") })
	return append(env, k+"="+v)
}

// xpraExits names xpra's exit statuses (xpra/exit_codes.py, 3.1; later
// versions keep these numbers). 1 stays unnamed: besides a lost connection
// it is any Python error's and a bad option's status.
var xpraExits = []string{2: "timeout", 3: "password required",
	4: "password file error", 5: "incompatible version", 6: "encryption", 7: "failure",
	8: "ssh failure", 9: "packet failure", 10: "mmap token failure", 11: "no authentication",
	12: "unsupported", 13: "remote error", 14: "internal error", 15: "file too big",
	16: "ssl failure", 17: "ssh key failure", 18: "connection failed",
	19: "ssl certificate verify failure", 20: "no display"}

// xpraLogTime is the time xpra's log puts before each line
// ("2026-12-01 17:29:50,347 "), at the start of each joined line.
var xpraLogTime = regexp.MustCompile(`(^| \| )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)

// localExitReason words the local client's end with its exit status, by
// xpra's name for it, and its last lines (tail.lastLines) without their
// times, which are xpra's own reason (a refused version, a lost
// connection).
func localExitReason(err error, output string) error {
	status := "the local xpra exited with status 0"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = "the local xpra was killed by signal " + ws.Signal().String()
		} else {
			status = fmt.Sprintf("the local xpra exited with status %d", ee.ExitCode())
			if c := ee.ExitCode(); c < len(xpraExits) && xpraExits[c] != "" {
				status += " (" + xpraExits[c] + ")"
			}
		}
	} else if err != nil {
		status = "the local xpra: " + err.Error()
	}
	output = xpraLogTime.ReplaceAllString(output, "$1")
	if output != "" {
		return &exitErr{reason: fmt.Errorf("%s: %s", status, output), cause: err}
	}
	return &exitErr{reason: errors.New(status), cause: err}
}

// lineWatch passes output on and calls found once, when a line containing
// marker has been written.
type lineWatch struct {
	w      *tail
	marker string
	found  func()
	line   []byte
	done   bool
}

func (lw *lineWatch) Write(p []byte) (int, error) {
	n, _ := lw.w.Write(p)
	if lw.done {
		return n, nil
	}
	lw.line = append(lw.line, p...)
	for {
		i := strings.IndexByte(string(lw.line), '\n')
		if i < 0 {
			break
		}
		if strings.Contains(string(lw.line[:i]), lw.marker) {
			lw.done = true
			lw.line = nil
			lw.found()
			return n, nil
		}
		lw.line = lw.line[i+1:]
	}
	if len(lw.line) > tailMax {
		lw.line = lw.line[len(lw.line)-tailMax:]
	}
	return n, nil
}

// errNoSocket: the display has no socket on the server.
var errNoSocket = errors.New("no xpra socket")

// dialStreamLocal opens a direct-streamlocal@openssh.com channel to path
// on the server.
func dialStreamLocal(ctx context.Context, c *ssh.Client, path string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		nc, err := c.Dial("unix", path)
		ch <- res{nc, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
