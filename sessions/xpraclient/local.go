package xpraclient

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
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// UUID is XPRA_USER_UUID for a client identity ("": xpra's default): a
// hash, so that a location's name does not travel as is. Local clients
// with different identities are different clients to xpra, which
// disconnects "the same client" connecting again.
func UUID(identity string) string {
	if identity == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("perch xpra client\x00" + identity))
	return hex.EncodeToString(sum[:20])
}

// OpenSocket finds display n's socket on the server, checks that it
// answers and exposes it here as a private socket whose every connection
// is a fresh channel to it. ErrSession: no session channel could be
// opened (the connection is likely going).
func OpenSocket(ctx context.Context, c *ssh.Client, n int) (*PrivateSocket, error) {
	path, err := FindSocket(ctx, c, n)
	if err != nil {
		return nil, err
	}
	// A first channel tells a refused forward or a dead socket apart, and
	// is closed at once: the client gets a channel of its own for each
	// connection it makes, when it makes it.
	first, err := DialStreamLocal(ctx, c, path)
	var oe *ssh.OpenChannelError
	switch {
	case errors.As(err, &oe) && oe.Reason == ssh.Prohibited:
		return nil, fmt.Errorf("display :%d: the server refuses to forward unix sockets (sshd_config: AllowStreamLocalForwarding, DisableForwarding): %w", n, err)
	case err != nil:
		return nil, fmt.Errorf("display :%d: the xpra socket %s on the server does not answer (is its xpra server running?): %w", n, path, err)
	}
	first.Close()
	return ListenPrivate(func() (net.Conn, error) { return DialStreamLocal(ctx, c, path) })
}

// Local is a local client to start: `xpra attach` on Socket (a
// PrivateSocket's path) with Args, drawing on Display ("": $DISPLAY) as
// UUID ("": xpra's default).
type Local struct {
	Bin           string
	Socket        string
	Args          []string
	Display, UUID string
	// OnAttached is called once, when the client says AttachedMarker.
	OnAttached func()
}

// Proc is a running local client.
type Proc struct {
	cmd      *exec.Cmd
	out      *Tail
	attached chan struct{} // closed when it said AttachedMarker
	done     chan error    // its Wait's error, once
}

// Start starts the local client, in a process group of its own that ends
// with perch.
func (lc Local) Start() (*Proc, error) {
	p := &Proc{out: &Tail{}, attached: make(chan struct{}), done: make(chan error, 1)}
	watch := &LineWatch{W: p.out, Marker: AttachedMarker, Found: func() {
		if lc.OnAttached != nil {
			lc.OnAttached()
		}
		close(p.attached)
	}}
	p.cmd = exec.Command(lc.Bin, AttachArgs(lc.Socket, lc.Args)...)
	p.cmd.Env = Env(lc.Display, lc.UUID)
	p.cmd.Stdout, p.cmd.Stderr = watch, watch
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the local xpra: %w", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p, nil
}

// Attached is closed once the client said it is attached.
func (p *Proc) Attached() <-chan struct{} { return p.attached }

// WasAttached reports whether it said so.
func (p *Proc) WasAttached() bool {
	select {
	case <-p.attached:
		return true
	default:
		return false
	}
}

// Done yields the client's end (its Wait's error), once.
func (p *Proc) Done() <-chan error { return p.done }

// LastLines is what the client printed last (Tail.LastLines).
func (p *Proc) LastLines() string { return p.out.LastLines() }

// NotAttached is the error of a client that did not attach within d.
func (p *Proc) NotAttached(d time.Duration) error {
	words := "it printed nothing"
	if out := p.LastLines(); out != "" {
		words = "its last words: " + out
	}
	return fmt.Errorf("the local xpra did not attach within %s: %s", d, words)
}

// Stop ends the client: SIGTERM, on which xpra's client disconnects
// cleanly; after timeout, SIGKILL to its process group. It returns once
// the client is gone, and must not be called after Done yielded.
func (p *Proc) Stop(timeout time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(timeout):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// RemoteAttach is remote mode's command for display n: `xpra attach :n`
// with options, each quoted for the login shell, exec'd by it.
func RemoteAttach(n int, args []string) string {
	cmd := "exec xpra attach :" + strconv.Itoa(n)
	for _, a := range args {
		cmd += " " + ShellQuote(a)
	}
	return cmd
}

// Attach is how a display session's xpra client runs: On, here (local
// mode, client = "local"); Remote, as `xpra attach :N` on the server
// (remote mode). It is a value (sessions compare their specs), so its
// list of options is one string.
type Attach struct {
	On      bool
	Remote  bool
	Display int
	// Args are extra `xpra attach` options, separated by NUL bytes.
	Args string
	// Identity tells the server which client this is (UUID). "" is
	// xpra's default: one identity per user and machine. The agent sets
	// it from the location.
	Identity string
}

// Options returns the extra options as a list.
func (a Attach) Options() []string {
	if a.Args == "" {
		return nil
	}
	return strings.Split(a.Args, "\x00")
}
