package hostkey

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/sessions/sshconf"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Fuzz targets for what sessions reads from outside: ssh_config files
// (FuzzSSHConfig, FuzzSSHConfigLine), known_hosts files (FuzzKnownHosts)
// and, in x11setup_test.go, the X11 setup request (FuzzX11Setup). Seeds are
// in testdata/fuzz/<FuzzName>.

// knownHostsKey is the key FuzzKnownHosts presents: a fixed ed25519 key.
func knownHostsKey(t testing.TB) ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzKnownHosts checks a key against a fuzzed known_hosts file.
func FuzzKnownHosts(f *testing.F) {
	key := knownHostsKey(f)
	f.Add([]byte(knownhosts.Line([]string{"server.example"}, key)+"\n"), false, false)
	f.Add([]byte("# empty\n"), true, true)
	f.Fuzz(func(t *testing.T, content []byte, port2222, acceptNew bool) {
		dir := t.TempDir()
		file := filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		tg := &sshconf.Target{Alias: "server", HostName: "server.example", Port: 22, KnownHostsFiles: []string{file}}
		if port2222 {
			tg.Port = 2222
		}
		policy := PolicyStrict
		if acceptNew {
			policy = PolicyAcceptNew
		}
		rows := bytes.Count(content, []byte("\n")) + 1
		cb, algos, err := HostKeys(tg, policy, nil)
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		blob := strings.Fields(string(ssh.MarshalAuthorizedKey(key)))[1]
		err = cb(tg.Addr(), nil, key)
		var he *HostKeyError
		switch {
		case err == nil:
			if !acceptNew && !strings.Contains(string(content), blob) {
				t.Fatal("accepted a key the file does not hold")
			}
		case errors.As(err, &he):
			if he.Kind != HostKeyChanged && he.Kind != HostKeyRevoked && he.Kind != HostKeyUnknown {
				t.Fatalf("kind %q", he.Kind)
			}
			if he.File != file || (he.Kind != HostKeyUnknown && (he.Line < 1 || he.Line > rows)) {
				t.Fatalf("refusal %+v points outside the file", he)
			}
			if he.Kind == HostKeyUnknown && acceptNew {
				t.Fatalf("accept-new refused an unknown key: %v", err)
			}
			if he.Kind == HostKeyRevoked && !strings.Contains(string(content), blob) {
				t.Fatalf("revoked a key the file does not hold: %v", err)
			}
		default:
			if !strings.Contains(err.Error(), "server.example") {
				t.Fatalf("error %q does not name the host", err)
			}
			return
		}
		after, rerr := os.ReadFile(file)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err == nil && !bytes.Equal(after, content) {
			// accept-new remembered the key: appended, the rest kept.
			if !bytes.HasPrefix(after, content) || !acceptNew {
				t.Fatalf("known_hosts rewritten:\n%q\nbecame\n%q", content, after)
			}
			cb2, algos2, err := HostKeys(tg, PolicyStrict, nil)
			if err != nil {
				t.Fatalf("known_hosts unreadable after remembering a key: %v\n%q", err, after)
			}
			if err := cb2(tg.Addr(), nil, key); err != nil {
				t.Fatalf("remembered key refused: %v", err)
			}
			if !strings.Contains(strings.Join(algos2, ","), key.Type()) {
				t.Fatalf("algorithms %q after remembering a %s key", algos2, key.Type())
			}
		} else if !bytes.Equal(after, content) {
			t.Fatalf("known_hosts changed although the key was %v", err)
		}
		if err == nil && !acceptNew && !strings.Contains(strings.Join(algos, ","), key.Type()) {
			t.Fatalf("the key is known but algorithms are %q", algos)
		}
	})
}
