package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
)

// The dead-link limit comes from the configuration's keepalive when it is
// set, else from ServerAliveInterval/ServerAliveCountMax in ssh_config, as
// ssh(1) would use them, else 5 s × 3.
func TestSSHLinksKeepalive(t *testing.T) {
	dir := t.TempDir()
	withAlive := filepath.Join(dir, "alive")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(withAlive, []byte("Host quiet\n  HostName 127.0.0.1\n  ServerAliveInterval 1\n  ServerAliveCountMax 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("Host quiet\n  HostName 127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sshConfig string
		keepalive time.Duration
		want      time.Duration
	}{
		{withAlive, 0, 4 * time.Second},
		{withAlive, 2 * time.Second, 8 * time.Second},
		{plain, 0, 15 * time.Second},
		{plain, 500 * time.Millisecond, 1500 * time.Millisecond},
	} {
		text := fmt.Sprintf("[server.quiet]\nssh = \"quiet\"\nssh_config = %q\n", c.sshConfig)
		if c.keepalive != 0 {
			text += fmt.Sprintf("keepalive = %q\n", c.keepalive)
		}
		cfg, err := config.Parse("perch.toml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		l, err := SSHLinks(":99", nil, Prompts{})("quiet", cfg.Servers["quiet"])
		if err != nil {
			t.Fatal(err)
		}
		if got := l.(*sessions.Link).DeadAfter(); got != c.want {
			t.Errorf("%s, keepalive %v: dead after %v, want %v", filepath.Base(c.sshConfig), c.keepalive, got, c.want)
		}
	}
}
