package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// perchWithin is perch, stopped (as by SIGTERM) after d.
func perchWithin(t *testing.T, d time.Duration, vars map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := e.run(ctx, args)
	return result{code, out.String(), errb.String()}
}

// TestConfigOthersCanWriteRefused: a configuration file (whose hooks run
// as the user) that another user owns or can write is refused, by perch
// check and perch up alike, naming the file and the fix.
func TestConfigOthersCanWriteRefused(t *testing.T) {
	vars := needX(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(twoScreens), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.toml")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "control.sock")
	for _, tc := range []struct {
		mode  os.FileMode
		owner int // -1: unchanged
		file  string
		want  string
	}{
		{0o666, -1, path, path + ": bad owner or permissions: writable by its group and others (mode 0666); fix: chmod go-w " + path},
		{0o620, -1, path, path + ": bad owner or permissions: writable by its group (mode 0620); fix: chmod go-w " + path},
		{0o602, -1, link, link + ": bad owner or permissions: writable by others (mode 0602); fix: chmod go-w " + link},
		{0o644, 65534, path, path + ": bad owner or permissions: owned by nobody, not by you"},
	} {
		if tc.owner >= 0 {
			if os.Getuid() != 0 && !testbed.InCI() {
				t.Log("!!! not root: the owner case is not tried")
				continue
			}
			if err := os.Chown(path, tc.owner, -1); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"check", "--config", tc.file}, {"up", "one", "--config", tc.file, "--socket", sock}} {
			// An agent that starts is stopped after 5 s (and fails the test).
			r := perchWithin(t, 5*time.Second, vars, args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%q with mode %04o owner %d: %d %q; want 2 %q", args, tc.mode, tc.owner, r.code, r.stderr, tc.want)
			}
		}
	}
	// Back to the user's own, private: accepted.
	if err := os.Chown(path, os.Getuid(), -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := perch(t, vars, "check", "--config", path); r.code != 0 {
		t.Errorf("a private file: %d %s", r.code, r.stderr)
	}
}
