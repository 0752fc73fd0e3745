package sshdial

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// testSSHD starts a real OpenSSH sshd for one test. Without OpenSSH the
// test skips loudly, except in CI (CI=true) where it fails.
func testSSHD(t *testing.T) *testbed.SSHD {
	t.Helper()
	testbed.SkipShort(t)
	for _, bin := range []string{"/usr/sbin/sshd", "ssh"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testbed.InCI() {
				t.Fatalf("CI=true but OpenSSH is missing: %v", err)
			}
			t.Skipf("!!! SKIPPING: OpenSSH is missing (%v); run `make deps` (as root) to install it", err)
		}
	}
	s, err := testbed.StartSSHD()
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("CI=true but the test sshd cannot start: %v", err)
		}
		t.Skipf("!!! SKIPPING: the test sshd cannot start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sshd: %v", err)
		}
	})
	// No test may reach the agent of whoever runs the tests.
	t.Setenv("SSH_AUTH_SOCK", "")
	return s
}

// bedTarget resolves the test bed's Host entry.
func bedTarget(t *testing.T, s *testbed.SSHD) *sshconf.Target {
	t.Helper()
	tg, err := sshconf.Resolve(s.HostAlias, []string{s.SSHConfig})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// sshdLog returns the server's log.
func sshdLog(t *testing.T, s *testbed.SSHD) string {
	t.Helper()
	b, err := os.ReadFile(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bedUserKey returns the test bed user's private key.
func bedUserKey(t *testing.T, s *testbed.SSHD) ed25519.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(s.UserKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.ParseRawPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return *k.(*ed25519.PrivateKey)
}

// writeEncryptedKey writes priv to a file encrypted with passphrase, in
// OpenSSH format (which carries the public key in clear), with no .pub.
func writeEncryptedKey(t *testing.T, priv ed25519.PrivateKey, passphrase string) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "encrypted test key", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	return writeConfFile(t, t.TempDir(), "id_enc", string(pem.EncodeToMemory(block)))
}

// writeNewKey writes a fresh unencrypted ed25519 key and returns its path and
// private key.
func writeNewKey(t *testing.T) (string, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return writeConfFile(t, t.TempDir(), "id_other", string(pem.EncodeToMemory(block))), priv
}

// countingAgent is an in-process ssh-agent that counts its requests.
type countingAgent struct {
	agent.ExtendedAgent
	lists, signs atomic.Int32
}

func (a *countingAgent) List() ([]*agent.Key, error) {
	a.lists.Add(1)
	return a.ExtendedAgent.List()
}

func (a *countingAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	a.signs.Add(1)
	return a.ExtendedAgent.Sign(key, data)
}

func (a *countingAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	a.signs.Add(1)
	return a.ExtendedAgent.SignWithFlags(key, data, flags)
}

// startTestAgent serves an agent holding keys on a socket in a temporary
// directory, until the test ends.
func startTestAgent(t *testing.T, keys ...ed25519.PrivateKey) (string, *countingAgent) {
	t.Helper()
	ring := agent.NewKeyring()
	for _, k := range keys {
		if err := ring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	a := &countingAgent{ExtendedAgent: ring.(agent.ExtendedAgent)}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = agent.ServeAgent(a, c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock, a
}

// startSilentListener accepts TCP connections and never says anything.
func startSilentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestDialSSHD(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	if tg.HostName != "127.0.0.1" || tg.Port != s.Port || tg.User != s.User || !tg.IdentitiesOnly ||
		len(tg.IdentityFiles) != 1 || tg.IdentityFiles[0] != s.UserKey || tg.KnownHostsFiles[0] != s.KnownHosts ||
		tg.StrictHostKeyChecking != "yes" || tg.ConnectTimeout != 10*time.Second {
		t.Fatalf("the test bed's ssh_config resolved to %+v", tg)
	}
	client, tm, err := Dial(context.Background(), tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if client.User() != s.User || len(client.SessionID()) == 0 {
		t.Errorf("client user %q session %x", client.User(), client.SessionID())
	}
	if tm.TCP <= 0 || tm.Handshake <= 0 || tm.Auth <= 0 || tm.Total < tm.TCP+tm.Handshake+tm.Auth {
		t.Errorf("timings %+v", tm)
	}
	t.Logf("timings %+v", tm)
	if err := client.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	log := sshdLog(t, s)
	if !strings.Contains(log, "Accepted publickey for "+s.User) {
		t.Errorf("sshd did not log the login:\n%s", log)
	}
	// Dial opens nothing: sshd logs every session it starts.
	if strings.Contains(log, "Starting session") || strings.Contains(log, "session opened") {
		t.Errorf("Dial opened a session:\n%s", log)
	}
}

func TestDialChangedHostKey(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	sock, ag := startTestAgent(t, bedUserKey(t, s))
	kh := writeConfFile(t, t.TempDir(), "known_hosts", "# the server, before it was reinstalled\n"+
		knownhosts.Line([]string{s.Addr}, newEd25519Key(t))+"\n")
	tg.KnownHostsFiles = []string{kh}
	_, _, err := Dial(context.Background(), tg, Options{AgentSocket: sock, Policy: hostkey.PolicyAcceptNew})
	hk := wantHostKeyError(t, err, hostkey.HostKeyChanged)
	if hk.File != kh || hk.Line != 2 || hk.Host != "[127.0.0.1]:"+strconv.Itoa(s.Port) || hk.Fingerprint != ssh.FingerprintSHA256(s.HostKey) {
		t.Errorf("got %+v", hk)
	}
	prefix := "connect to " + s.User + "@perch-test (" + s.Addr + "): host key for [127.0.0.1]:" + strconv.Itoa(s.Port) + " has changed"
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q\nwant prefix %q", err, prefix)
	}
	// The host key is checked before any authentication.
	if n := ag.lists.Load() + ag.signs.Load(); n != 0 {
		t.Errorf("the agent was asked %d times", n)
	}
	if log := sshdLog(t, s); strings.Contains(log, "Accepted") {
		t.Errorf("authenticated despite the changed key:\n%s", log)
	}
}

func TestDialUnknownHostKey(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	tg.KnownHostsFiles = []string{kh}
	_, _, err := Dial(context.Background(), tg, Options{Policy: hostkey.PolicyStrict})
	wantHostKeyError(t, err, hostkey.HostKeyUnknown)
	if _, err := os.Stat(kh); !os.IsNotExist(err) {
		t.Fatal("strict wrote known_hosts")
	}

	client, _, err := Dial(context.Background(), tg, Options{Policy: hostkey.PolicyAcceptNew})
	if err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	client.Close()
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := knownhosts.Line([]string{s.Addr}, s.HostKey) + "\n"; string(b) != want {
		t.Errorf("known_hosts = %q, want %q", b, want)
	}
	client, _, err = Dial(context.Background(), tg, Options{Policy: hostkey.PolicyStrict})
	if err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
	client.Close()
}

func TestDialEncryptedKey(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	enc := writeEncryptedKey(t, bedUserKey(t, s), "secret")
	tg.IdentityFiles = []string{enc}

	_, _, err := Dial(context.Background(), tg, Options{})
	want := "key " + enc + " is encrypted and perch runs without a prompt: load it into ssh-agent with `ssh-add " + enc + "`"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("error %v\nwant one with %q", err, want)
	}

	calls := 0
	client, _, err := Dial(context.Background(), tg, Options{Passphrase: func(_ context.Context, file string) ([]byte, error) {
		calls++
		if file != enc {
			t.Errorf("asked for %s", file)
		}
		return []byte("secret"), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if calls != 1 {
		t.Errorf("passphrase asked %d times, want 1", calls)
	}

	// A wrong passphrase ends the dial: one question, never a loop.
	calls = 0
	_, _, err = Dial(context.Background(), tg, Options{Passphrase: func(context.Context, string) ([]byte, error) {
		calls++
		return []byte("wrong"), nil
	}})
	if err == nil || !strings.Contains(err.Error(), "wrong passphrase") || calls != 1 {
		t.Errorf("wrong passphrase: %v after %d questions", err, calls)
	}
	// A refused question too.
	_, _, err = Dial(context.Background(), tg, Options{Passphrase: func(context.Context, string) ([]byte, error) {
		return nil, errors.New("the person said no")
	}})
	if err == nil || !strings.Contains(err.Error(), "the person said no") {
		t.Errorf("refused passphrase: %v", err)
	}

	// Through a jump host the key is asked for once per Dial, not per hop.
	calls = 0
	tg.ProxyJump = []sshconf.Spec{{Host: s.HostAlias}}
	tg.ConfigFiles = []string{writeConfFile(t, t.TempDir(), "config", "Host "+s.HostAlias+"\n  HostName 127.0.0.1\n  Port "+
		strconv.Itoa(s.Port)+"\n  IdentityFile "+enc+"\n  UserKnownHostsFile "+s.KnownHosts+"\n")}
	client, _, err = Dial(context.Background(), tg, Options{Passphrase: func(context.Context, string) ([]byte, error) {
		calls++
		return []byte("secret"), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if calls != 1 {
		t.Errorf("through a jump host: passphrase asked %d times, want 1", calls)
	}
}

func TestDialAgent(t *testing.T) {
	s := testSSHD(t)
	other, otherPriv := writeNewKey(t)
	sock, ag := startTestAgent(t, otherPriv, bedUserKey(t, s))

	tg := bedTarget(t, s)
	tg.IdentityFiles, tg.IdentitiesOnly = nil, false
	client, _, err := Dial(context.Background(), tg, Options{AgentSocket: sock})
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if ag.signs.Load() != 1 {
		t.Errorf("the agent signed %d times, want 1", ag.signs.Load())
	}

	// $SSH_AUTH_SOCK is the default.
	t.Setenv("SSH_AUTH_SOCK", sock)
	client, _, err = Dial(context.Background(), tg, Options{})
	if err != nil {
		t.Fatalf("with $SSH_AUTH_SOCK: %v", err)
	}
	client.Close()
	t.Setenv("SSH_AUTH_SOCK", "")

	// IdentitiesOnly: only the agent's keys that match an identity file,
	// here the encrypted copy of the user key, which then needs no
	// passphrase since the agent holds it.
	tg.IdentitiesOnly = true
	tg.IdentityFiles = []string{writeEncryptedKey(t, bedUserKey(t, s), "secret")}
	client, _, err = Dial(context.Background(), tg, Options{AgentSocket: sock})
	if err != nil {
		t.Fatalf("IdentitiesOnly with the key in the agent: %v", err)
	}
	client.Close()

	// IdentitiesOnly with another key: the user key in the agent is not
	// offered, so the server refuses; the error says what was offered.
	tg.IdentityFiles = []string{other, "/nonexistent/id_test"}
	otherPub, err := ssh.NewPublicKey(otherPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	otherFP := ssh.FingerprintSHA256(otherPub)
	_, _, err = Dial(context.Background(), tg, Options{AgentSocket: sock})
	if err == nil {
		t.Fatal("IdentitiesOnly offered the agent's other keys")
	}
	for _, want := range []string{
		`the server refused authentication as "` + s.User + `"`,
		"ssh-agent key " + otherFP,
		"key /nonexistent/id_test does not exist",
		"unable to authenticate",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "key "+other) {
		t.Errorf("the file of a key the agent offered was offered again: %v", err)
	}
	if ae := (*AuthError)(nil); !errors.As(err, &ae) || ae.Host == "" {
		t.Errorf("a refused authentication is not an *AuthError: %T %v", err, err)
	}

	// An unreachable agent is skipped, with the reason kept.
	tg.IdentityFiles, tg.IdentitiesOnly = []string{s.UserKey}, true
	client, _, err = Dial(context.Background(), tg, Options{AgentSocket: filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatalf("unreachable agent: %v", err)
	}
	client.Close()
}

func TestDialProxyJump(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	tg.ProxyJump = []sshconf.Spec{{Host: s.HostAlias}}
	var mu sync.Mutex
	var raw []*closeWatchConn
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w := &closeWatchConn{Conn: c, closed: make(chan struct{})}
		mu.Lock()
		raw = append(raw, w)
		mu.Unlock()
		return w, nil
	}
	client, tm, err := Dial(context.Background(), tg, Options{NetDialer: dialer})
	if err != nil {
		t.Fatal(err)
	}
	if tm.TCP <= 0 || tm.Handshake <= 0 || tm.Auth <= 0 || tm.Total < tm.TCP {
		t.Errorf("timings %+v", tm)
	}
	if len(raw) != 1 {
		t.Fatalf("%d TCP connections, want 1 (to the jump host)", len(raw))
	}
	if n := strings.Count(sshdLog(t, s), "Accepted publickey"); n != 2 {
		t.Errorf("%d logins, want 2 (jump host and target)", n)
	}
	// Closing the client closes the jump host's connection too.
	client.Close()
	select {
	case <-raw[0].closed:
	case <-time.After(5 * time.Second):
		t.Error("the jump host's connection is still open")
	}

	// Two hops.
	tg.ProxyJump = []sshconf.Spec{{Host: s.HostAlias}, {Host: s.HostAlias}}
	client, _, err = Dial(context.Background(), tg, Options{})
	if err != nil {
		t.Fatalf("two hops: %v", err)
	}
	client.Close()
	if n := strings.Count(sshdLog(t, s), "Accepted publickey"); n != 5 {
		t.Errorf("%d logins, want 5", n)
	}

	// A jump host that refuses: the error says so.
	tg.ProxyJump = []sshconf.Spec{{Host: "127.0.0.1", Port: closedPort(t)}}
	_, _, err = Dial(context.Background(), tg, Options{})
	if err == nil || !strings.Contains(err.Error(), "through jump host") {
		t.Errorf("refusing jump host: %v", err)
	}
}

// closedPort returns a port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// closeWatchConn reports when a connection is closed.
type closeWatchConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *closeWatchConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func TestDialTimeout(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	port := startSilentListener(t)
	tg, err := sshconf.Resolve("me@127.0.0.1:"+strconv.Itoa(port), []string{})
	if err != nil {
		t.Fatal(err)
	}
	tg.KnownHostsFiles = nil
	for _, tc := range []struct {
		name       string
		opt, cfg   time.Duration
		wantBudget time.Duration
	}{
		{"Timeout", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"ConnectTimeout", 0, 300 * time.Millisecond, 300 * time.Millisecond},
		{"Timeout over ConnectTimeout", 300 * time.Millisecond, time.Hour, 300 * time.Millisecond},
	} {
		tg.ConnectTimeout = tc.cfg
		start := time.Now()
		_, tm, err := Dial(context.Background(), tg, Options{Timeout: tc.opt})
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s: a silent server accepted", tc.name)
		}
		if took < tc.wantBudget-20*time.Millisecond || took > tc.wantBudget+2*time.Second {
			t.Errorf("%s: failed after %v, want about %v", tc.name, took, tc.wantBudget)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connect to me@127.0.0.1:"+strconv.Itoa(port)+": timed out after 300ms") {
			t.Errorf("%s: error %q", tc.name, err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s: %v is not a timeout net.Error", tc.name, err)
		}
		if tm.Total < 300*time.Millisecond {
			t.Errorf("%s: timings %+v", tc.name, tm)
		}
	}
}

func TestDialCancel(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	port := startSilentListener(t)
	tg, err := sshconf.Resolve("me@127.0.0.1:"+strconv.Itoa(port), []string{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err = Dial(ctx, tg, Options{Timeout: 30 * time.Second})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %v", took)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "connect to me@127.0.0.1:"+strconv.Itoa(port)+": stopped") {
		t.Errorf("error %v", err)
	}
	// Already cancelled: nothing is dialled.
	_, _, err = Dial(ctx, tg, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

func TestDialPrompts(t *testing.T) {
	s := testSSHD(t)
	tg := bedTarget(t, s)
	tg.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "known_hosts")}
	tg.StrictHostKeyChecking = "ask" // the bed's ssh_config says yes: ssh never asks then

	// A person's time does not count against the timeout.
	client, _, err := Dial(context.Background(), tg, Options{Timeout: 2 * time.Second,
		HostKeyPrompt: func(_ context.Context, host string, key ssh.PublicKey) (bool, bool, error) {
			time.Sleep(2500 * time.Millisecond) // the person, slower than the timeout
			return true, false, nil
		}})
	if err != nil {
		t.Fatalf("slow prompt: %v", err)
	}
	client.Close()

	// Cancelling returns at once, even while a person is being asked, and
	// the answer that comes later is not acted upon.
	release, asked, answered := make(chan struct{}), make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-asked
		cancel()
	}()
	start := time.Now()
	var promptCtx context.Context
	goroutines := runtime.NumGoroutine()
	_, _, err = Dial(ctx, tg, Options{HostKeyPrompt: func(pctx context.Context, _ string, _ ssh.PublicKey) (bool, bool, error) {
		promptCtx = pctx
		defer close(answered)
		close(asked)
		<-release
		return true, true, nil
	}})
	if took := time.Since(start); took > 2*time.Second || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel during a prompt: %v after %v", err, took)
	}
	close(release)
	<-answered
	if promptCtx == nil || promptCtx.Err() == nil {
		t.Error("the prompt's context did not end with the cancelled dial")
	}
	// The callback would write right after the answer, in the dial's
	// handshake goroutine: wait for that goroutine to end.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines 5s after the answer, %d before the dial", runtime.NumGoroutine(), goroutines)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(tg.KnownHostsFiles[0]); !os.IsNotExist(err) {
		t.Error("known_hosts written after the dial was cancelled")
	}
}
