// Dialling a server: TCP (directly or through ProxyJump hosts), the key
// exchange with host key verification, and public key authentication with
// ssh-agent and identity files.

package sshdial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/internal/sys/rawconn"
)

// DefaultDialTimeout bounds a connection when neither Options.Timeout
// nor ConnectTimeout is set.
const DefaultDialTimeout = 15 * time.Second

// Options tunes Dial.
type Options struct {
	Policy string // known_hosts policy, "strict" | "accept-new" (see HostKeys)
	// Passphrase asks a person for an encrypted key's passphrase; nil:
	// headless. ctx ends with the Dial that asked: the question goes away.
	Passphrase func(ctx context.Context, keyFile string) ([]byte, error)
	// HostKeyPrompt asks about an unknown host key under the "ask" policy;
	// nil: refuse unknown keys. ctx ends with the Dial that asked.
	HostKeyPrompt func(ctx context.Context, host string, key ssh.PublicKey) (accept, remember bool, err error)
	AgentSocket   string                                                            // default IdentityAgent, else $SSH_AUTH_SOCK; none: no agent
	Timeout       time.Duration                                                     // overrides ConnectTimeout when > 0; default 15s when neither is set
	NetDialer     func(ctx context.Context, network, addr string) (net.Conn, error) // default net.Dialer; tests use it to go through a fault proxy
	// Wrap, when set, wraps the byte stream of the first hop, whatever
	// carries it (TCP or a ProxyCommand): everything from the server
	// passes through it.
	Wrap func(net.Conn) net.Conn
}

// Timings are the phases of a connection. TCP runs from the start of
// Dial until the TCP connection to the target is up (through any jump
// hosts), Handshake from then until the host key was checked, Auth from
// then until authentication ended; Total is the whole Dial.
type Timings struct{ TCP, Handshake, Auth, Total time.Duration }

// Dial connects and authenticates to t, through t.ProxyJump's hosts if
// set: each jump host is resolved through the same ssh_config files and
// dialled with the same rules, then the next connection is opened from it
// with direct-tcpip. The returned client must be closed by the caller;
// closing it also closes the jump clients.
//
// Authentication offers, in one "publickey" round, the keys of ssh-agent
// (o.AgentSocket, IdentityAgent or $SSH_AUTH_SOCK; with IdentitiesOnly only those whose
// public key matches an identity file), then the identity files. The
// passphrase of an encrypted key is asked for only once the server
// accepted its public key, and at most once per key per Dial; without
// o.Passphrase, an encrypted key is not offered and the error explains how
// to load it into ssh-agent. A person's time spent in o.Passphrase or
// o.HostKeyPrompt does not count against the timeout.
//
// ctx cancels the whole dial. The timeout (o.Timeout, else
// t.ConnectTimeout, else 15s) bounds TCP, key exchange and authentication
// of each connection. Errors name the server, wrap the cause with %w and
// keep a *hostkey.HostKeyError reachable with errors.As. Dial itself opens no
// session, channel or request on the returned client.
func Dial(ctx context.Context, t *sshconf.Target, o Options) (*ssh.Client, Timings, error) {
	start := time.Now()
	keys := &keyCache{ids: map[string]*identityFile{}}
	if o.Passphrase != nil {
		keys.passphrase = func(file string) ([]byte, error) { return o.Passphrase(ctx, file) }
	}
	client, tm, err := dialChain(ctx, t, o, keys, start, 0)
	tm.Total = time.Since(start)
	return client, tm, err
}

// maxJumpDepth bounds a chain of jump hosts (each may have its own).
const maxJumpDepth = 8

// dialChain connects to t through its jump hosts as ssh does: the last hop
// is resolved with its own configuration but reached through the hops
// before it (ssh -J), and each hop is checked with its own host key
// policy and files.
func dialChain(ctx context.Context, t *sshconf.Target, o Options, keys *keyCache, start time.Time, depth int) (*ssh.Client, Timings, error) {
	// CanonicalizeHostname's lookups, with this connection's context and
	// within its timeout.
	lctx, cancel := context.WithTimeout(ctx, connectTimeout(t, o))
	ft, err := t.Final(lctx)
	cancel()
	if err != nil {
		return nil, Timings{}, fmt.Errorf("connect to %s: %w", t, err)
	}
	t = ft
	var via *ssh.Client
	if len(t.ProxyJump) > 0 {
		if depth >= maxJumpDepth {
			return nil, Timings{}, fmt.Errorf("connect to %s: more than %d jump hosts (do two of them jump through each other?)", t, maxJumpDepth)
		}
		ht, err := t.JumpHost()
		if err != nil {
			return nil, Timings{}, fmt.Errorf("connect to %s: %w", t, err)
		}
		via, _, err = dialChain(ctx, ht, o, keys, start, depth+1)
		if err != nil {
			return nil, Timings{}, fmt.Errorf("connect to %s through jump host: %w", t, err)
		}
	}
	client, tm, err := dialOne(ctx, t, o, via, keys, start)
	if err != nil {
		if via != nil {
			via.Close()
		}
		return nil, tm, err
	}
	if via != nil {
		// Ends when the client's connection closes, by Close or by loss.
		go func() {
			_ = client.Wait()
			via.Close()
		}()
	}
	return client, tm, nil
}

// handshakeResult is what the key exchange goroutine hands back.
type handshakeResult struct {
	conn  ssh.Conn
	chans <-chan ssh.NewChannel
	reqs  <-chan *ssh.Request
	err   error
}

// dialOne makes one connection: to t, directly or from via.
func dialOne(ctx context.Context, t *sshconf.Target, o Options, via *ssh.Client, keys *keyCache, start time.Time) (*ssh.Client, Timings, error) {
	var tm Timings
	timeout := connectTimeout(t, o)
	name, addr := t.String(), t.Addr()
	hostKeyCB, algos, err := hostkey.HostKeys(t, o.Policy, ctxPrompt(ctx, o))
	if err != nil {
		return nil, tm, fmt.Errorf("connect to %s: %w", name, err)
	}
	stopped := func(phase string, cause error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("connect to %s: stopped during %s: %w", name, phase, ctx.Err())
		}
		return fmt.Errorf("connect to %s: timed out after %v during %s: %w", name, timeout, phase, cause)
	}

	deadline := time.Now().Add(timeout)
	conn, timedOut, err := connectTCP(ctx, t, o, via, deadline)
	tcpAt := time.Now()
	tm.TCP = tcpAt.Sub(start)
	if err != nil {
		if timedOut {
			return nil, tm, stopped("TCP connect", context.DeadlineExceeded)
		}
		return nil, tm, fmt.Errorf("connect to %s: %w", name, err)
	}

	wd := newDialWatchdog(deadline, conn)
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	as := &authState{keys: keys, t: t, o: o, wd: wd}
	hs, ok := handshake(ctx, conn, addr, as.config(hostKeyCB, algos), wd, as)
	if !ok {
		return nil, tm, stopped("the SSH handshake", ctx.Err())
	}
	fired := wd.stop()
	ctxFired := !stopCtx()
	as.close()
	end, phase := time.Now(), "key exchange"
	tm.Handshake = end.Sub(tcpAt)
	if !as.hostKeyAt.IsZero() {
		tm.Handshake, tm.Auth, phase = as.hostKeyAt.Sub(tcpAt), end.Sub(as.hostKeyAt), "authentication"
	}
	if hs.err == nil && (fired || ctxFired) {
		hs.conn.Close()
		hs.err = net.ErrClosed
	}
	if hs.err != nil {
		conn.Close()
		switch {
		case ctxFired || ctx.Err() != nil:
			return nil, tm, stopped(phase, ctx.Err())
		case fired:
			return nil, tm, stopped(phase, context.DeadlineExceeded)
		}
		return nil, tm, handshakeError(name, phase, as.hostKeyErr, !as.hostKeyAt.IsZero(), as, hs.err)
	}
	return ssh.NewClient(hs.conn, hs.chans, hs.reqs), tm, nil
}

// connectTCP makes the connection the SSH handshake runs on, by deadline:
// TCP, a ProxyCommand's or a jump host's channel (transport), with raw
// reads and writes and, for the target itself, o.Wrap. timedOut: the
// deadline passed first.
func connectTCP(ctx context.Context, t *sshconf.Target, o Options, via *ssh.Client, deadline time.Time) (conn net.Conn, timedOut bool, err error) {
	tcpCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err = transport(tcpCtx, t, o, via, t.Addr())
	if err != nil {
		return nil, tcpCtx.Err() != nil, err
	}
	conn = rawconn.Wrap(conn)
	if via == nil && o.Wrap != nil {
		conn = o.Wrap(conn)
	}
	return conn, false, nil
}

// config is the handshake's client configuration: the host key checked
// by check (the watchdog paused while it may ask a person, the time and
// answer kept), then public key authentication (signers).
func (as *authState) config(check ssh.HostKeyCallback, algos []string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User: as.t.User,
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			resume := as.wd.pause()
			err := check(host, remote, key)
			resume()
			as.hostKeyAt, as.hostKeyErr = time.Now(), err
			return err
		},
		HostKeyAlgorithms: algos,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(as.signers)},
	}
}

// connectTimeout bounds a connection: Options.Timeout, else ssh_config's
// ConnectTimeout, else DefaultDialTimeout.
func connectTimeout(t *sshconf.Target, o Options) time.Duration {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = max(t.ConnectTimeout, 0)
	}
	if timeout == 0 {
		timeout = DefaultDialTimeout
	}
	return timeout
}

// handshake runs the key exchange and authentication in a goroutine of
// its own, so that a cancelled ctx returns at once (ok false) even while a
// person is being asked something; the goroutine ends with the handshake
// (the connection is closed) and then releases what it holds.
func handshake(ctx context.Context, conn net.Conn, addr string, cfg *ssh.ClientConfig, wd *dialWatchdog, as *authState) (handshakeResult, bool) {
	done := make(chan handshakeResult, 1)
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		done <- handshakeResult{c, chans, reqs, err}
	}()
	select {
	case hs := <-done:
		return hs, true
	case <-ctx.Done():
		conn.Close()
		wd.stop()
		go func() {
			if hs := <-done; hs.err == nil {
				hs.conn.Close()
			}
			as.close()
		}()
		return handshakeResult{}, false
	}
}

// ctxPrompt is o's host key prompt for one dial: asked with the dial's
// context, and an answer that comes after the dial was cancelled changes
// nothing. nil without a prompt.
func ctxPrompt(ctx context.Context, o Options) hostkey.Prompt {
	if o.HostKeyPrompt == nil {
		return nil
	}
	return func(host string, key ssh.PublicKey) (bool, bool, error) {
		accept, remember, err := o.HostKeyPrompt(ctx, host, key)
		if ctx.Err() != nil {
			return false, false, ctx.Err()
		}
		return accept, remember, err
	}
}

// handshakeError says why a key exchange or authentication failed: the
// host key refusal, the passphrase, or what was offered.
func handshakeError(name, phase string, hostKeyErr error, keyChecked bool, as *authState, err error) error {
	switch {
	case hostKeyErr != nil:
		var hk *hostkey.HostKeyError
		if errors.As(hostKeyErr, &hk) {
			return fmt.Errorf("connect to %s: %w", name, hk)
		}
		return fmt.Errorf("connect to %s: %w", name, hostKeyErr)
	case as.err != nil:
		return fmt.Errorf("connect to %s: %w", name, as.err)
	case keyChecked && strings.Contains(err.Error(), "unable to authenticate"):
		return &AuthError{Host: name, Offered: as.describe(), Err: err}
	}
	return fmt.Errorf("connect to %s: %s: %w", name, phase, err)
}

// transport opens the byte stream to t: a channel of the jump host, a
// ProxyCommand, or TCP.
func transport(ctx context.Context, t *sshconf.Target, o Options, via *ssh.Client, addr string) (net.Conn, error) {
	switch {
	case via != nil:
		return via.DialContext(ctx, "tcp", addr)
	case t.ProxyCommand != "" && t.ProxyUseFdpass:
		return proxyFdpass(ctx, t.ProxyCommand, addr)
	case t.ProxyCommand != "":
		return proxyCommand(t.ProxyCommand, addr)
	case o.NetDialer != nil:
		return o.NetDialer(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// dialWatchdog closes a connection when its deadline passes; pause stops the
// clock while a person is being asked something.
type dialWatchdog struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time
	left     time.Duration
	paused   int
	fired    bool
	stopped  bool
	closers  []io.Closer
}

func newDialWatchdog(deadline time.Time, c io.Closer) *dialWatchdog {
	wd := &dialWatchdog{deadline: deadline, closers: []io.Closer{c}}
	wd.mu.Lock()
	wd.timer = time.AfterFunc(time.Until(deadline), wd.fire)
	wd.mu.Unlock()
	return wd
}

func (wd *dialWatchdog) fire() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.stopped || wd.fired {
		return
	}
	wd.fired = true
	for _, c := range wd.closers {
		c.Close()
	}
}

// add closes c with the connection.
func (wd *dialWatchdog) add(c io.Closer) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.fired {
		c.Close()
		return
	}
	wd.closers = append(wd.closers, c)
}

// pause stops the clock until the returned function is called.
func (wd *dialWatchdog) pause() (resume func()) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.paused++
	if wd.paused == 1 && wd.timer.Stop() {
		wd.left = time.Until(wd.deadline)
	}
	return func() {
		wd.mu.Lock()
		defer wd.mu.Unlock()
		wd.paused--
		if wd.paused == 0 && !wd.fired && !wd.stopped {
			wd.deadline = time.Now().Add(wd.left)
			wd.timer.Reset(wd.left)
		}
	}
}

// stop ends the watch and reports whether the deadline had passed.
func (wd *dialWatchdog) stop() (fired bool) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.timer.Stop()
	wd.stopped = true
	return wd.fired
}
