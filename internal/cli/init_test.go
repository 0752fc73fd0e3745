package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
)

// TestInit: perch init against the bed's sshd and xpra writes a
// configuration with the layout on screen and the running xpra display,
// which `perch up` runs with the session attached; it refuses to
// overwrite without --force and keeps a backup with it.
func TestInit(t *testing.T) {
	needRemote(t)
	vars := map[string]string{"DISPLAY": bed.Name}
	layout := writeConfig(t, twoScreens)
	if r := perch(t, vars, "layout", "apply", "desk", "--config", layout); r.code != 0 {
		t.Fatalf("apply desk: %s", r.stderr)
	}
	path := filepath.Join(t.TempDir(), "perch", "config.toml")
	args := []string{"init", "--server", remoteBed.sshd.HostAlias, "--ssh-config", remoteBed.sshd.SSHConfig, "--profile", "here", "--config", path}
	r := perch(t, vars, args...)
	if r.code != 0 || !strings.Contains(r.stdout, path+": ok (1 profiles: here; 1 servers)") {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Profile("here")
	if cfg.Default != "here" || p.Server != "perch-test" || !slices.Contains(p.Displays, remoteBed.xpra.Display) ||
		len(p.Outputs) != 2 || p.Outputs[0].Name != "DUMMY0" || p.Outputs[1].Pos != "1024,0" {
		t.Errorf("written profile %+v", p)
	}
	text := mustRead(t, path)
	if !strings.HasPrefix(text, "# perch configuration, written by `perch init`") {
		t.Errorf("no comment on top:\n%s", text)
	}

	// Again: refused, the file untouched; with --force, replaced with a backup.
	r = perch(t, vars, args...)
	if r.code != 2 || !strings.Contains(r.stderr, path+" exists; pass --force") || mustRead(t, path) != text {
		t.Errorf("second init: exit %d %s", r.code, r.stderr)
	}
	if r := perch(t, vars, append(args, "--force", "--displays", fmt.Sprint(remoteBed.xpra.Display))...); r.code != 0 || mustRead(t, path+".bak") != text {
		t.Errorf("init --force: exit %d %s", r.code, r.stderr)
	}

	// What init wrote runs: perch up attaches the session.
	sock := upInProcess(t, vars, "--config", path).sock
	waitStatus(t, sock, "the session attached", 60*time.Second, func(s api.Status) bool {
		state, _ := session(s, fmt.Sprintf(":%d", remoteBed.xpra.Display))
		return s.Profile == "here" && state == "attached"
	})
}

// TestInitFailures: each failure is one clear message, and no file.
func TestInitFailures(t *testing.T) {
	needRemote(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	x := map[string]string{"DISPLAY": bed.Name}
	alias, sshConfig := remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig
	cases := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no server", x, []string{"init"}, 2, "init needs --server HOST: a host of ssh_config ("},
		{"bad displays", x, []string{"init", "--server", alias, "--displays", "ten"}, 2, `--displays "ten": want auto or display numbers such as 10,11`},
		{"no X", map[string]string{}, []string{"init", "--server", alias, "--ssh-config", sshConfig}, 1, "read the screen: no X display: set DISPLAY or pass --display"},
		{"unreachable host", x, []string{"init", "--server", "nobody@127.0.0.1:1"}, 1, "connect to nobody@127.0.0.1:1: "},
		{"profile named auto", x, []string{"init", "--server", alias, "--profile", "auto"}, 2, `--profile "auto": give the profile a name other than auto`},
	}
	for _, tc := range cases {
		r := perch(t, tc.vars, append(tc.args, "--config", path)...)
		if r.code != tc.code || !strings.Contains(r.stderr, "perch: "+tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, r.code, r.stderr, tc.code, tc.want)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s: a file was written", tc.name)
		}
	}
}

// TestInitAsks: without --server at a terminal, init lists ssh_config's
// hosts and takes the one the person picks.
func TestInitAsks(t *testing.T) {
	needRemote(t)
	path := filepath.Join(t.TempDir(), "config.toml")
	var out, errb strings.Builder
	vars := map[string]string{"DISPLAY": bed.Name}
	e := &env{stdin: strings.NewReader("1\n"), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] },
		terminal: func() bool { return true }}
	code := e.run(context.Background(), []string{"init", "--ssh-config", remoteBed.sshd.SSHConfig, "--config", path})
	if code != 0 || !strings.Contains(errb.String(), "  1) "+remoteBed.sshd.HostAlias+"\n") || !strings.Contains(out.String(), path+": ok") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if text := mustRead(t, path); !strings.Contains(text, "ssh = \""+remoteBed.sshd.HostAlias+"\"") {
		t.Errorf("written:\n%s", text)
	}
}
