package sshdial

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"

	"github.com/perchdesk/perch/sessions/hostkey"

	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// writeConfFile writes content to dir/name and returns the path.
func writeConfFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

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

func wantHostKeyError(t *testing.T, err error, kind string) *hostkey.HostKeyError {
	t.Helper()
	var hk *hostkey.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("error %v is not a *hostkey.HostKeyError", err)
	}
	if hk.Kind != kind {
		t.Fatalf("Kind = %q, want %q (%v)", hk.Kind, kind, err)
	}
	return hk
}
