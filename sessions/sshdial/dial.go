// Dialling a server: TCP (directly or through ProxyJump hosts), the key
// exchange with host key verification, and public key authentication with
// ssh-agent and identity files.

package sshdial

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/perchdesk/perch/internal/rawconn"
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
	AgentSocket   string                                                            // default $SSH_AUTH_SOCK; "" and unset: no agent
	Timeout       time.Duration                                                     // overrides ConnectTimeout when > 0; default 15s when neither is set
	NetDialer     func(ctx context.Context, network, addr string) (net.Conn, error) // default net.Dialer; tests use it to go through a fault proxy
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
// (o.AgentSocket or $SSH_AUTH_SOCK; with IdentitiesOnly only those whose
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
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = t.ConnectTimeout
	}
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	name := t.String()
	addr := t.Addr()
	var prompt hostkey.Prompt
	if o.HostKeyPrompt != nil {
		// An answer that comes after Dial was cancelled changes nothing.
		prompt = func(host string, key ssh.PublicKey) (bool, bool, error) {
			accept, remember, err := o.HostKeyPrompt(ctx, host, key)
			if ctx.Err() != nil {
				return false, false, ctx.Err()
			}
			return accept, remember, err
		}
	}
	hostKeyCB, algos, err := hostkey.HostKeys(t, o.Policy, prompt)
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
	tcpCtx, cancel := context.WithDeadline(ctx, deadline)
	var conn net.Conn
	switch {
	case via != nil:
		conn, err = via.DialContext(tcpCtx, "tcp", addr)
	case t.ProxyCommand != "":
		conn, err = proxyCommand(t.ProxyCommand, addr)
	case o.NetDialer != nil:
		conn, err = o.NetDialer(tcpCtx, "tcp", addr)
	default:
		var d net.Dialer
		conn, err = d.DialContext(tcpCtx, "tcp", addr)
	}
	tcpErr := tcpCtx.Err()
	cancel()
	tcpAt := time.Now()
	tm.TCP = tcpAt.Sub(start)
	if err != nil {
		if tcpErr != nil {
			return nil, tm, stopped("TCP connect", context.DeadlineExceeded)
		}
		return nil, tm, fmt.Errorf("connect to %s: %w", name, err)
	}

	conn = rawconn.Wrap(conn)
	wd := newDialWatchdog(deadline, conn)
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	as := &authState{keys: keys, t: t, o: o, wd: wd}
	var hostKeyAt time.Time
	var hostKeyErr error
	cfg := &ssh.ClientConfig{
		User: t.User,
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			resume := wd.pause()
			err := hostKeyCB(host, remote, key)
			resume()
			hostKeyAt, hostKeyErr = time.Now(), err
			return err
		},
		HostKeyAlgorithms: algos,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(as.signers)},
	}
	// The key exchange runs in its own goroutine so that a cancelled ctx
	// returns at once even while a person is being asked something; the
	// goroutine ends when the handshake does (the connection is closed).
	done := make(chan handshakeResult, 1)
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		done <- handshakeResult{c, chans, reqs, err}
	}()
	var hs handshakeResult
	select {
	case hs = <-done:
	case <-ctx.Done():
		conn.Close()
		wd.stop()
		go func() {
			if hs := <-done; hs.err == nil {
				hs.conn.Close()
			}
			as.close()
		}()
		return nil, tm, stopped("the SSH handshake", ctx.Err())
	}
	fired := wd.stop()
	ctxFired := !stopCtx()
	as.close()
	end := time.Now()
	if !hostKeyAt.IsZero() {
		tm.Handshake = hostKeyAt.Sub(tcpAt)
		tm.Auth = end.Sub(hostKeyAt)
	} else {
		tm.Handshake = end.Sub(tcpAt)
	}
	phase := "key exchange"
	if !hostKeyAt.IsZero() {
		phase = "authentication"
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
		case hostKeyErr != nil:
			var hk *hostkey.HostKeyError
			if errors.As(hostKeyErr, &hk) {
				return nil, tm, fmt.Errorf("connect to %s: %w", name, hk)
			}
			return nil, tm, fmt.Errorf("connect to %s: %w", name, hostKeyErr)
		case as.err != nil:
			return nil, tm, fmt.Errorf("connect to %s: %w", name, as.err)
		case !hostKeyAt.IsZero() && strings.Contains(hs.err.Error(), "unable to authenticate"):
			return nil, tm, fmt.Errorf("connect to %s: %s: %w", name, as.describe(), hs.err)
		}
		return nil, tm, fmt.Errorf("connect to %s: %s: %w", name, phase, hs.err)
	}
	return ssh.NewClient(hs.conn, hs.chans, hs.reqs), tm, nil
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

// identityFile is an identity file as loaded once per Dial.
type identityFile struct {
	path      string
	pub       ssh.PublicKey // nil if unknown (encrypted, no .pub)
	signer    ssh.Signer    // nil until decrypted
	raw       []byte        // the encrypted key
	encrypted bool
	skip      string // why it cannot be offered, if so

	once sync.Once
	err  error // decryption's outcome
}

// keyCache loads identity files and asks for passphrases at most once per
// key per Dial, across jump hosts.
type keyCache struct {
	passphrase func(keyFile string) ([]byte, error)
	mu         sync.Mutex
	ids        map[string]*identityFile
}

func (kc *keyCache) load(path string) *identityFile {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if id, ok := kc.ids[path]; ok {
		return id
	}
	id := &identityFile{path: path}
	kc.ids[path] = id
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			id.skip = fmt.Sprintf("key %s does not exist", path)
		} else {
			id.skip = fmt.Sprintf("key %s cannot be read: %v", path, err)
		}
		return id
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		id.signer, id.pub = signer, signer.PublicKey()
	case errors.As(err, &missing):
		id.encrypted, id.raw, id.pub = true, data, missing.PublicKey
		if id.pub == nil {
			if b, err := os.ReadFile(path + ".pub"); err == nil {
				if pub, _, _, _, err := ssh.ParseAuthorizedKey(b); err == nil {
					id.pub = pub
				}
			}
		}
	default:
		id.skip = fmt.Sprintf("key %s is not a private key perch can read: %v", path, err)
	}
	return id
}

// decrypt asks for id's passphrase (once) and decrypts it.
func (kc *keyCache) decrypt(id *identityFile, wd *dialWatchdog) (ssh.Signer, error) {
	id.once.Do(func() {
		resume := wd.pause()
		pass, err := kc.passphrase(id.path)
		resume()
		if err != nil {
			id.err = fmt.Errorf("key %s: no passphrase: %w", id.path, err)
			return
		}
		signer, err := ssh.ParsePrivateKeyWithPassphrase(id.raw, pass)
		clear(pass)
		switch {
		case errors.Is(err, x509.IncorrectPasswordError):
			id.err = fmt.Errorf("key %s: wrong passphrase: %w", id.path, err)
		case err != nil:
			id.err = fmt.Errorf("key %s: %w", id.path, err)
		case id.pub != nil && string(id.pub.Marshal()) != string(signer.PublicKey().Marshal()):
			id.err = fmt.Errorf("key %s does not match its public key %s.pub", id.path, id.path)
		default:
			id.signer, id.pub = signer, signer.PublicKey()
		}
	})
	return id.signer, id.err
}

// authState gathers the keys for one connection and remembers what was
// offered and why some were not, for the error message.
type authState struct {
	keys *keyCache
	t    *sshconf.Target
	o    Options
	wd   *dialWatchdog

	mu      sync.Mutex
	agent   net.Conn
	offered []string
	skipped []string
	err     error // a failure that ended authentication (a passphrase)
}

// signers is the ssh.PublicKeysCallback: agent keys, then identity files.
func (as *authState) signers() ([]ssh.Signer, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	var ids []*identityFile
	for _, p := range as.t.IdentityFiles {
		id := as.keys.load(p)
		if id.skip != "" {
			as.skipped = append(as.skipped, id.skip)
			continue
		}
		ids = append(ids, id)
	}
	var out []ssh.Signer
	seen := map[string]bool{}
	sock := as.o.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && as.agent == nil {
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			as.skipped = append(as.skipped, fmt.Sprintf("ssh-agent at %s is not reachable: %v", sock, err))
		} else {
			as.agent = c
			as.wd.add(c)
			agentSigners, err := agent.NewClient(c).Signers()
			if err != nil {
				as.skipped = append(as.skipped, fmt.Sprintf("ssh-agent at %s: %v", sock, err))
			}
			for _, s := range agentSigners {
				blob := string(s.PublicKey().Marshal())
				if as.t.IdentitiesOnly && !matchesIdentity(blob, ids) {
					continue
				}
				seen[blob] = true
				out = append(out, s)
				as.offered = append(as.offered, "ssh-agent key "+ssh.FingerprintSHA256(s.PublicKey()))
			}
		}
	}
	for _, id := range ids {
		if id.pub != nil && seen[string(id.pub.Marshal())] {
			continue // ssh-agent holds it and offered it already
		}
		switch {
		case id.signer != nil:
			out = append(out, id.signer)
		case as.o.Passphrase == nil:
			as.skipped = append(as.skipped, fmt.Sprintf("key %s is encrypted and perch runs without a prompt: load it into ssh-agent with `ssh-add %s`", id.path, id.path))
			continue
		case id.pub != nil:
			out = append(out, &promptSigner{id: id, as: as})
		default:
			// Without its public key the key must be decrypted to be offered.
			if _, err := as.keys.decrypt(id, as.wd); err != nil {
				as.err = err
				return nil, err
			}
			out = append(out, id.signer)
		}
		if id.pub != nil {
			seen[string(id.pub.Marshal())] = true
		}
		as.offered = append(as.offered, "key "+id.path)
	}
	return out, nil
}

func matchesIdentity(blob string, ids []*identityFile) bool {
	for _, id := range ids {
		if id.pub != nil && string(id.pub.Marshal()) == blob {
			return true
		}
	}
	return false
}

// describe says what authentication offered, for an auth failure.
func (as *authState) describe() string {
	as.mu.Lock()
	defer as.mu.Unlock()
	msg := fmt.Sprintf("the server refused authentication as %q", as.t.User)
	if len(as.offered) > 0 {
		msg += " (offered: " + strings.Join(as.offered, ", ") + ")"
	} else {
		msg += " (perch had no key to offer: no ssh-agent and no usable identity file)"
	}
	if len(as.skipped) > 0 {
		msg += "; not offered: " + strings.Join(as.skipped, "; ")
	}
	return msg
}

func (as *authState) close() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.agent != nil {
		as.agent.Close()
	}
}

// promptSigner is an encrypted identity file offered by its public key; its
// passphrase is asked for when the server accepted the key and a
// signature is needed.
type promptSigner struct {
	id *identityFile
	as *authState
}

func (s *promptSigner) PublicKey() ssh.PublicKey { return s.id.pub }

func (s *promptSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(rand, data, "")
}

func (s *promptSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	signer, err := s.as.keys.decrypt(s.id, s.as.wd)
	if err != nil {
		s.as.mu.Lock()
		s.as.err = err
		s.as.mu.Unlock()
		return nil, err
	}
	if algorithm == "" {
		return signer.Sign(rand, data)
	}
	as, ok := signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("key %s cannot sign with %s", s.id.path, algorithm)
	}
	return as.SignWithAlgorithm(rand, data, algorithm)
}
