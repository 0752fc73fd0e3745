package claims

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// seatServer is an sshd logging in as its own unprivileged account, for
// tests of two people on one server.
func seatServer(t *testing.T, user string) (*testbed.SSHD, *ssh.Client) {
	t.Helper()
	s, err := testbed.StartSSHDWith(testbed.SSHDOptions{User: user})
	if err != nil {
		t.Fatalf("sshd for %s: %v", user, err)
	}
	t.Cleanup(func() { s.Close() })
	tg, err := sshconf.Resolve(s.HostAlias, []string{s.SSHConfig})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := sshdial.Dial(ctx, tg, sshdial.Options{})
	if err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// TestClaimsPrivate: on a shared server, where a person sits is theirs.
// The claim watcher of one account makes its state directories 0700 and
// its files 0600 under a umask of 0 (and closes what an older perch left
// open), and another account on the server can read none of it, though
// it can reach the directory above.
func TestClaimsPrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		if testbed.InCI() {
			t.Fatal("CI=true but not root: two server accounts need useradd")
		}
		t.Skip("!!! SKIPPING TestClaimsPrivate: two server accounts need root (useradd)")
	}
	a, ca := seatServer(t, "perchseat1")
	_, cb := seatServer(t, "perchseat2")
	// sshd gives its sessions a umask of at least 022; under 022, perch
	// made its state 0755 and 0644 before.
	if out := run1(t, ca, "umask 2>/dev/null"); !strings.Contains(out, "0022") {
		t.Fatalf("the session's umask is %q, want 0022 for the test to mean something", out)
	}
	// A server where homes and ~/.local/state are open to all, and an
	// older perch left its state readable.
	state := filepath.Join(a.Home, ".local", "state")
	run1(t, ca, "chmod 755 ~ && mkdir -p -m 755 ~/.local ~/.local/state/perch/claims && chmod 755 ~/.local/state ~/.local/state/perch && echo x 1 old >~/.local/state/perch/claims/9 && chmod 644 ~/.local/state/perch/claims/9")

	w, err := Start(ca, Config{Location: "desk", AgentID: "a1"}, 2*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := ask(t, w, "take 10"); len(s.Claims) != 2 || len(s.Agents) != 1 {
		t.Fatalf("after take 10: %+v", s)
	}
	// The watcher is one process on the server: its sh replaced the login
	// shell that sshd started it with.
	if out, err := exec.Command("ps", "-u", "perchseat1", "-o", "pid=,ppid=,comm=,args=").Output(); err != nil {
		t.Errorf("ps: %v", err)
	} else if parent := watcherParent(string(out)); parent != "sshd" {
		t.Errorf("the claim watcher's parent is %q, want sshd (one process per watcher):\n%s", parent, out)
	}
	if dirs, files := checkModes(t, filepath.Join(state, "perch")); dirs != 3 || files != 3 {
		t.Errorf("%d directories and %d files under %s, want 3 (perch, claims, agents) and 3 (claims 9 and 10, agent a1)", dirs, files, state)
	}
	// The other account reaches A's ~/.local/state and no further.
	if out, err := runAs(t, cb, "ls "+state); err != nil || !strings.Contains(out, "perch") {
		t.Fatalf("as perchseat2, ls %s: %v: %s (the test needs the way there open)", state, err, out)
	}
	for _, f := range []string{"", "claims/10", "claims/9", "agents/a1"} {
		cmd := "cat " + filepath.Join(state, "perch", f)
		if f == "" {
			cmd = "ls " + filepath.Join(state, "perch")
		}
		out, err := runAs(t, cb, cmd)
		if err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("as perchseat2, %s: %v: %s; want Permission denied", cmd, err, out)
		}
	}
}

// TestClaimsPrivateUmask: the watcher's state is 0700 and 0600 even under
// a umask of 0 (sshd never gives one; a wrapper might).
func TestClaimsPrivateUmask(t *testing.T) {
	home := t.TempDir()
	old := syscall.Umask(0) // the watcher's sh inherits it
	w := localWatcher(t, home, Config{Location: "desk", AgentID: "a1"})
	syscall.Umask(old)
	ask(t, w, "take 10")
	if dirs, files := checkModes(t, filepath.Join(home, ".local/state/perch")); dirs != 3 || files != 2 {
		t.Errorf("%d directories and %d files, want 3 and 2", dirs, files)
	}
}

// checkModes checks that every directory under root (and root) is 0700
// and every file 0600, and counts them.
func checkModes(t *testing.T, root string) (dirs, files int) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want, dirs = fs.ModeDir|0o700, dirs+1
		} else {
			files++
		}
		if fi.Mode() != want {
			t.Errorf("%s is %s, want %s", p, fi.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs, files
}

// watcherParent finds the claim watcher in ps output (pid, ppid, comm,
// args) and returns its parent's command name.
func watcherParent(ps string) string {
	comm := map[string]string{}
	var ppid string
	for _, l := range strings.Split(ps, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		comm[f[0]] = f[2]
		if strings.Contains(l, "while read -r seq cmd arg") && f[2] == "sh" {
			ppid = f[1]
		}
	}
	return comm[ppid]
}

func runAs(t *testing.T, c *ssh.Client, cmd string) (string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func run1(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	out, err := runAs(t, c, cmd)
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return out
}
