package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/config"
)

// TestResolve: the server's ssh_config (with ~ for the home directory)
// decides the target, perch's known_hosts setting the policy; a file that
// ssh would refuse is bad input naming the server.
func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg := filepath.Join(home, "perch_ssh_config")
	if err := os.WriteFile(cfg, []byte("Host office\n  HostName 192.0.2.7\n  Port 2222\n  User ann\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, o, err := Resolve("bed", &config.Server{SSH: "office", SSHConfig: "~/perch_ssh_config", KnownHosts: "strict"})
	if err != nil {
		t.Fatal(err)
	}
	if tg.HostName != "192.0.2.7" || tg.Port != 2222 || tg.User != "ann" || o.Policy != "strict" {
		t.Errorf("target %+v, policy %q", tg, o.Policy)
	}
	if err := os.WriteFile(cfg, []byte("Host office\n  Port none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = Resolve("bed", &config.Server{SSH: "office", SSHConfig: cfg})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "server bed") || !strings.Contains(err.Error(), cfg) {
		t.Errorf("a bad ssh_config: %v", err)
	}
}
