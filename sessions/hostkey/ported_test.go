package hostkey

// The unit tests of the old sessions/hostkeys_test.go (deleted in the
// split of issue 14), ported to this package with their names. The old
// "strict with a prompt" is PolicyAsk now (StrictHostKeyChecking yes
// never asks, as in ssh).

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/sessions/sshconf"
)

func newEd25519Key(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECDSAKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var testRemoteAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}

// checkHostKey runs a HostKeys callback as the ssh package would.
func checkHostKey(t *testing.T, target *sshconf.Target, policy string, prompt func(string, ssh.PublicKey) (bool, bool, error), key ssh.PublicKey) error {
	t.Helper()
	cb, _, err := HostKeys(target, policy, prompt)
	if err != nil {
		t.Fatal(err)
	}
	return cb(target.Addr(), testRemoteAddr, key)
}

func wantHostKeyError(t *testing.T, err error, kind string) *HostKeyError {
	t.Helper()
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("error %v is not a *HostKeyError", err)
	}
	if hk.Kind != kind {
		t.Fatalf("Kind = %q, want %q (%v)", hk.Kind, kind, err)
	}
	return hk
}

func TestHostKeysKnown(t *testing.T) {
	dir := t.TempDir()
	edKey, ecKey, other := newEd25519Key(t), newECDSAKey(t), newEd25519Key(t)
	hashed := knownhosts.HashHostname("[10.0.0.9]:2222")
	file1 := writeConfFile(t, dir, "known_hosts", strings.Join([]string{
		"# comment",
		knownhosts.Line([]string{"plain.example"}, edKey),
		knownhosts.Line([]string{"[127.0.0.1]:2222"}, edKey),
		hashed + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ecKey))),
		knownhosts.Line([]string{"127.0.0.1"}, other), // port 22 only
		knownhosts.Line([]string{"multi.example"}, edKey),
		knownhosts.Line([]string{"multi.example"}, ecKey),
		"",
	}, "\n"))
	file2 := writeConfFile(t, dir, "known_hosts2", "\n"+knownhosts.Line([]string{"[second.example]:2200"}, ecKey)+"\n")
	contents := map[string]string{}
	for _, f := range []string{file1, file2} {
		b, _ := os.ReadFile(f)
		contents[f] = string(b)
	}
	target := func(host string, port int) *sshconf.Target {
		return &sshconf.Target{Alias: "alias", HostName: host, Port: port, KnownHostsFiles: []string{filepath.Join(dir, "missing"), file1, file2}}
	}
	never := func(string, ssh.PublicKey) (bool, bool, error) {
		t.Fatal("the prompt was called for a known host")
		return false, false, nil
	}

	// Known keys verify, whatever the policy.
	for _, tc := range []struct {
		host string
		port int
		key  ssh.PublicKey
	}{
		{"plain.example", 22, edKey},
		{"127.0.0.1", 2222, edKey},
		{"10.0.0.9", 2222, ecKey},
		{"127.0.0.1", 22, other},
		{"second.example", 2200, ecKey},
	} {
		for _, policy := range []string{"", PolicyStrict, PolicyAcceptNew} {
			if err := checkHostKey(t, target(tc.host, tc.port), policy, never, tc.key); err != nil {
				t.Errorf("%s:%d (%s): %v", tc.host, tc.port, policy, err)
			}
		}
	}

	// Changed keys are refused with the offending file and line, and never
	// prompted for, even with accept-new.
	for _, tc := range []struct {
		host string
		port int
		key  ssh.PublicKey
		file string
		line int
		name string
	}{
		{"plain.example", 22, ecKey, file1, 2, "plain.example"},
		{"127.0.0.1", 2222, other, file1, 3, "[127.0.0.1]:2222"},
		{"10.0.0.9", 2222, newECDSAKey(t), file1, 4, "[10.0.0.9]:2222"},
		{"10.0.0.9", 2222, edKey, file1, 4, "[10.0.0.9]:2222"}, // another type: still "changed"
		{"127.0.0.1", 22, edKey, file1, 5, "127.0.0.1"},
		{"multi.example", 22, newECDSAKey(t), file1, 7, "multi.example"}, // the last non-matching line, as ssh
		{"second.example", 2200, edKey, file2, 2, "[second.example]:2200"},
	} {
		for _, policy := range []string{PolicyStrict, PolicyAcceptNew} {
			err := checkHostKey(t, target(tc.host, tc.port), policy, never, tc.key)
			hk := wantHostKeyError(t, err, HostKeyChanged)
			if hk.File != tc.file || hk.Line != tc.line || hk.Host != tc.name || hk.Fingerprint != ssh.FingerprintSHA256(tc.key) {
				t.Errorf("%s:%d: got %+v, want %s:%d", tc.host, tc.port, hk, tc.file, tc.line)
			}
			want := "host key for " + tc.name + " has changed (now " + ssh.FingerprintSHA256(tc.key) + "); the known key is at " +
				tc.file + ":" + strconv.Itoa(tc.line) + " — if the server was really reinstalled, remove that line"
			if err.Error() != want {
				t.Errorf("message %q\nwant      %q", err, want)
			}
		}
	}
	for f, before := range contents {
		if b, _ := os.ReadFile(f); string(b) != before {
			t.Errorf("%s was written to: %s", f, b)
		}
	}

	// HostKeyAlgorithms lists the known types first, as ssh's
	// order_hostkeyalgs does (and the default as is when its first type is
	// known): no longer the known types only.
	_, verbatim, err := HostKeys(target("unknown.example", 22), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		port int
		want []string // the list's start; nil: verbatim
	}{
		{"10.0.0.9", 2222, []string{ssh.CertAlgoECDSA256v01, ssh.KeyAlgoECDSA256}},
		{"127.0.0.1", 2222, nil},
		{"multi.example", 22, nil},
	} {
		_, algos, err := HostKeys(target(tc.host, tc.port), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		ok := len(algos) == len(verbatim) && (tc.want == nil && reflect.DeepEqual(algos, verbatim) ||
			tc.want != nil && reflect.DeepEqual(algos[:len(tc.want)], tc.want))
		if !ok {
			t.Errorf("%s:%d: algorithms %v, want them to start with %v (nil: %v)", tc.host, tc.port, algos, tc.want, verbatim)
		}
	}
}

func TestHostKeysRSAAlgorithms(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// A known RSA key offers rsa-sha2-512 before rsa-sha2-256 (ssh-rsa,
	// SHA-1, is no longer in ssh's default list).
	f := writeConfFile(t, t.TempDir(), "kh", knownhosts.Line([]string{"h"}, rsaKey)+"\n")
	_, algos, err := HostKeys(&sshconf.Target{HostName: "h", Port: 22, KnownHostsFiles: []string{f}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	if len(algos) < len(want) || !reflect.DeepEqual(algos[:len(want)], want) || slices.Contains(algos, ssh.KeyAlgoRSA) {
		t.Errorf("algorithms %v, want them to start with %v and no ssh-rsa", algos, want)
	}
}

func TestHostKeysUnknown(t *testing.T) {
	dir := t.TempDir()
	key := newEd25519Key(t)
	kh := filepath.Join(dir, "new", "dir", "known_hosts")
	target := &sshconf.Target{HostName: "127.0.0.1", Port: 2222, KnownHostsFiles: []string{kh, filepath.Join(dir, "other")}}

	// strict without a prompt: refused, nothing written.
	err := checkHostKey(t, target, PolicyStrict, nil, key)
	hk := wantHostKeyError(t, err, HostKeyUnknown)
	if hk.File != kh || hk.Host != "[127.0.0.1]:2222" {
		t.Errorf("got %+v", hk)
	}
	want := `host key for [127.0.0.1]:2222 is not known (` + ssh.FingerprintSHA256(key) + `); add it to ` + kh + ` (e.g. ssh-keyscan), or set known_hosts = "accept-new"`
	if err.Error() != want {
		t.Errorf("message %q\nwant      %q", err, want)
	}
	if _, err := os.Stat(kh); !os.IsNotExist(err) {
		t.Fatalf("strict wrote %s", kh)
	}

	// The prompt decides: refuse, accept once, accept and remember.
	calls := 0
	answer := func(accept, remember bool) func(string, ssh.PublicKey) (bool, bool, error) {
		return func(host string, k ssh.PublicKey) (bool, bool, error) {
			calls++
			if host != "[127.0.0.1]:2222" || !reflect.DeepEqual(k.Marshal(), key.Marshal()) {
				t.Errorf("prompt(%q, %s)", host, ssh.FingerprintSHA256(k))
			}
			return accept, remember, nil
		}
	}
	wantHostKeyError(t, checkHostKey(t, target, PolicyAsk, answer(false, true), key), HostKeyUnknown)
	if err := checkHostKey(t, target, PolicyAsk, answer(true, false), key); err != nil {
		t.Fatalf("accept once: %v", err)
	}
	if _, err := os.Stat(kh); !os.IsNotExist(err) {
		t.Fatal("accept once wrote known_hosts")
	}
	if err := checkHostKey(t, target, "", func(string, ssh.PublicKey) (bool, bool, error) {
		return false, false, errors.New("no display")
	}, key); err == nil || !strings.Contains(err.Error(), "no display") {
		t.Errorf("prompt error: %v", err)
	}
	if err := checkHostKey(t, target, PolicyAsk, answer(true, true), key); err != nil {
		t.Fatalf("remember: %v", err)
	}
	if calls != 3 {
		t.Errorf("prompt called %d times, want 3", calls)
	}
	// Remembered: known now, in the first file, 0600 in a 0700 directory.
	if err := checkHostKey(t, target, PolicyStrict, nil, key); err != nil {
		t.Fatalf("after remember: %v", err)
	}
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := knownhosts.Line([]string{"[127.0.0.1]:2222"}, key) + "\n"; string(b) != want {
		t.Errorf("known_hosts = %q, want %q", b, want)
	}
	if st, _ := os.Stat(kh); st.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode %v", st.Mode())
	}
	if st, _ := os.Stat(filepath.Dir(kh)); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", st.Mode())
	}

	// accept-new: recorded (after a line without a newline), then known.
	kh2 := writeConfFile(t, dir, "kh2", "# no newline at the end")
	t2 := &sshconf.Target{HostName: "srv.example", Port: 22, KnownHostsFiles: []string{kh2}}
	key2 := newECDSAKey(t)
	if err := checkHostKey(t, t2, PolicyAcceptNew, answer(false, false), key2); err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	if calls != 3 {
		t.Error("accept-new prompted")
	}
	if err := checkHostKey(t, t2, PolicyStrict, nil, key2); err != nil {
		t.Fatalf("second call after accept-new: %v", err)
	}
	b, _ = os.ReadFile(kh2)
	if want := "# no newline at the end\nsrv.example " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key2))) + "\n"; string(b) != want {
		t.Errorf("known_hosts = %q, want %q", b, want)
	}
	// A different key for it now is a change, even with accept-new.
	wantHostKeyError(t, checkHostKey(t, t2, PolicyAcceptNew, nil, newECDSAKey(t)), HostKeyChanged)

	// ssh_config's StrictHostKeyChecking accept-new is the default policy.
	t3 := &sshconf.Target{HostName: "third.example", Port: 22, KnownHostsFiles: []string{kh2}, StrictHostKeyChecking: "accept-new"}
	if err := checkHostKey(t, t3, "", nil, key2); err != nil {
		t.Errorf("StrictHostKeyChecking accept-new: %v", err)
	}
	t3.HostName, t3.StrictHostKeyChecking = "fourth.example", "yes"
	wantHostKeyError(t, checkHostKey(t, t3, "", nil, key2), HostKeyUnknown)

	// No known_hosts file at all: every key is unknown; none to write to.
	t4 := &sshconf.Target{HostName: "h", Port: 22}
	wantHostKeyError(t, checkHostKey(t, t4, PolicyStrict, nil, key), HostKeyUnknown)
	if err := checkHostKey(t, t4, PolicyAcceptNew, nil, key); err == nil {
		t.Error("accept-new with UserKnownHostsFile none accepted")
	}

	if _, _, err := HostKeys(t4, "yes", nil); err == nil {
		t.Error("policy \"yes\" accepted")
	}
}

func TestHostKeysRevoked(t *testing.T) {
	key := newEd25519Key(t)
	f := writeConfFile(t, t.TempDir(), "kh", knownhosts.Line([]string{"h"}, newEd25519Key(t))+"\n"+
		"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))+"\n")
	target := &sshconf.Target{HostName: "h", Port: 22, KnownHostsFiles: []string{f}}
	for _, policy := range []string{PolicyStrict, PolicyAcceptNew} {
		err := checkHostKey(t, target, policy, func(string, ssh.PublicKey) (bool, bool, error) {
			t.Fatal("prompted for a revoked key")
			return true, true, nil
		}, key)
		hk := wantHostKeyError(t, err, HostKeyRevoked)
		if hk.File != f || hk.Line != 2 || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("got %+v: %v", hk, err)
		}
	}
	// Revoked for a host with no other key too.
	target.HostName = "elsewhere"
	wantHostKeyError(t, checkHostKey(t, target, PolicyAcceptNew, nil, key), HostKeyRevoked)
}
