package hostkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sshc "github.com/kevinburke/ssh_config"
	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/sshconf"
)

func newKey(t *testing.T) ssh.PublicKey {
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

// TestAuthority: perch's own known_hosts setting, when given, wins over
// ssh_config's StrictHostKeyChecking; when not given, ssh_config decides.
func TestAuthority(t *testing.T) {
	for _, tc := range []struct{ perch, ssh, want string }{
		{"strict", "accept-new", PolicyStrict},
		{"accept-new", "yes", PolicyAcceptNew},
		{"", "accept-new", PolicyAcceptNew},
		{"", "yes", PolicyStrict},
		{"", "ask", PolicyAsk},
		{"", "", PolicyAsk},
		{"", "", sshc.Default("StrictHostKeyChecking")}, // unset: OpenSSH's default, as perch resolve reports it
	} {
		if got := Policy(tc.perch, &sshconf.Target{StrictHostKeyChecking: tc.ssh}); got != tc.want {
			t.Errorf("perch %q, ssh_config %q: %q, want %q", tc.perch, tc.ssh, got, tc.want)
		}
	}
	// And the callback obeys it: strict refuses and records nothing,
	// although ssh_config says accept-new.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	tg := &sshconf.Target{HostName: "h.example", Port: 22, KnownHostsFiles: []string{kh}, StrictHostKeyChecking: "accept-new"}
	cb, _, err := HostKeys(tg, PolicyStrict, nil)
	if err != nil {
		t.Fatal(err)
	}
	var he *HostKeyError
	if err := cb("", nil, newKey(t)); !errors.As(err, &he) || he.Kind != HostKeyUnknown {
		t.Fatalf("strict over accept-new: %v", err)
	}
	if _, err := os.Stat(kh); !os.IsNotExist(err) {
		t.Fatal("strict recorded a key")
	}
}

// TestRecordHashed: accept-new records the key under the looked-up name,
// hashed with HashKnownHosts, and the next check finds it.
func TestRecordHashed(t *testing.T) {
	for _, hash := range []bool{false, true} {
		kh := filepath.Join(t.TempDir(), "dir", "known_hosts")
		tg := &sshconf.Target{HostName: "h.example", Port: 2222, KnownHostsFiles: []string{kh}, HashKnownHosts: hash}
		key := newKey(t)
		cb, _, err := HostKeys(tg, PolicyAcceptNew, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb("", nil, key); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(kh)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(string(data), "|1|"); got != hash || !hash && !strings.HasPrefix(string(data), "[h.example]:2222 ") {
			t.Errorf("hash %v: recorded %q", hash, data)
		}
		cb, algos, err := HostKeys(tg, PolicyStrict, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb("", nil, key); err != nil {
			t.Errorf("hash %v: the recorded key is refused: %v", hash, err)
		}
		if algos[0] != ssh.CertAlgoED25519v01 || !strings.Contains(strings.Join(algos[:2], ","), ssh.KeyAlgoED25519) {
			t.Errorf("hash %v: algorithms %v do not start with the known type", hash, algos)
		}
		if err := cb("", nil, newKey(t)); !errors.As(err, new(*HostKeyError)) {
			t.Errorf("hash %v: another key: %v", hash, err)
		}
	}
}

// TestStrictNo: under StrictHostKeyChecking no an unknown key is recorded
// in the first UserKnownHostsFile, as ssh records it; a changed or revoked
// key is refused naming file:line, saying that ssh would connect with X11,
// agent and port forwarding off; a read-only known_hosts (none) refuses
// an unknown key, as ssh does; a directory in the list is skipped.
func TestStrictNo(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "kh")
	tg := &sshconf.Target{HostName: "h.example", Port: 22, KnownHostsFiles: []string{kh, filepath.Join(dir, "kh2")},
		GlobalKnownHostsFiles: []string{dir}, StrictHostKeyChecking: "no"}
	if p := Policy("", tg); p != PolicyNo {
		t.Fatalf("Policy = %q, want %q", p, PolicyNo)
	}
	key := newKey(t)
	cb, _, err := HostKeys(tg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb("", nil, key); err != nil {
		t.Fatalf("unknown key under no: %v", err)
	}
	data, err := os.ReadFile(kh)
	if err != nil || !strings.HasPrefix(string(data), "h.example ssh-ed25519 ") {
		t.Fatalf("recorded %q, %v", data, err)
	}
	os.WriteFile(kh, append(data, []byte("@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))...), 0o600)
	cb, _, err = HostKeys(tg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  ssh.PublicKey
		kind string
		line int
	}{{newKey(t), HostKeyChanged, 1}, {key, HostKeyRevoked, 2}} {
		err := cb("", nil, c.key)
		var he *HostKeyError
		if !errors.As(err, &he) || he.Kind != c.kind || he.File != kh || he.Line != c.line || !he.StrictNo ||
			!strings.Contains(err.Error(), "ssh would connect anyway but turn off X11 forwarding, agent and port forwarding") ||
			!strings.Contains(err.Error(), kh+":"+string(rune('0'+c.line))) {
			t.Errorf("%s key under no: %v", c.kind, err)
		}
	}
	tg.KnownHostsFiles = nil // UserKnownHostsFile none: nothing can be recorded
	cb, _, err = HostKeys(tg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb("", nil, newKey(t)); !errors.As(err, new(*HostKeyError)) {
		t.Errorf("unknown key, read-only: %v", err)
	}
}
