package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// startXWayland runs a headless Weston with XWayland and returns the X
// display XWayland listens on; it stops Weston (and its XWayland) at the
// end of the test.
func startXWayland(t *testing.T) string {
	t.Helper()
	for _, prog := range []string{"weston", "Xwayland"} {
		if _, err := exec.LookPath(prog); err != nil {
			if testbed.InCI() {
				t.Fatalf("%s is not installed (scripts/deps.sh installs it)", prog)
			}
			t.Skipf("!!! SKIPPED: %s is not installed: run make deps", prog)
		}
	}
	run := t.TempDir()
	if err := os.Chmod(run, 0o700); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(run, "weston.log")
	cmd := exec.Command("weston", "--backend=headless-backend.so", "--socket=wl-perch", "--xwayland", "--idle-time=0", "--log="+logPath)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // weston and its XWayland
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	re := regexp.MustCompile(`xserver listening on display (:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		select {
		case err := <-exited:
			t.Fatalf("weston exited: %v\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("weston announced no XWayland display within 30s:\n%s", b)
		}
	}
}

// TestXWayland: on a real XWayland (headless Weston), without
// WAYLAND_DISPLAY in the environment, perch recognises the server by its
// outputs: outputs lists them, the layout commands and up refuse (exit 2)
// and say what to use instead; a profile without outputs is not refused.
func TestXWayland(t *testing.T) {
	dpy := startXWayland(t)
	vars := map[string]string{"DISPLAY": dpy}
	cfg := writeConfig(t, "[profile.one]\n[[profile.one.output]]\nname = \"XWAYLAND0\"\n\n[profile.couch]\nafter = [\"true\"]\n")
	r := perch(t, vars, "outputs")
	if r.code != 0 || !strings.Contains(r.stdout, "XWAYLAND0 connected") {
		t.Fatalf("outputs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	why := "the X server is XWayland (output XWAYLAND0): RandR cannot arrange the monitors of a Wayland session, and this compositor offers neither wlr-output-management (wlroots) nor GNOME's DisplayConfig"
	sock := filepath.Join(t.TempDir(), "control.sock")
	for _, args := range [][]string{
		{"layout", "apply", "one"},
		{"layout", "save", "new"},
		{"up", "one", "--socket", sock},
	} {
		r := perch(t, vars, append(args, "--config", cfg)...)
		if r.code != 2 || !strings.Contains(r.stderr, why) {
			t.Errorf("perch %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if r := perch(t, vars, "layout", "apply", "couch", "--config", cfg); r.code != 0 {
		t.Errorf("a profile without outputs: exit %d %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(cfg); strings.Contains(string(b), "profile.new") {
		t.Errorf("layout save wrote a profile:\n%s", b)
	}
}
