package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/ui"
)

// TestFirstRunWindow starts perch-tray as a menu or the autostart would on
// a machine with no configuration, no session bus and LANG=C.UTF-8: it
// shows the first-run window instead of exiting (the message also on
// stderr), logs no Fyne locale error, autolaunches no D-Bus daemon, and
// exits 2 when stopped.
func TestFirstRunWindow(t *testing.T) {
	need(t, "Xorg")
	d := startXorg(t)
	dir := t.TempDir()
	b := startLoneTray(t, d, dir, filepath.Join(dir, "config.toml")) // not there
	b.waitWindow(t, d, ui.FirstRunTitle)
	if !strings.Contains(b.out.String(), "no configuration file") {
		t.Errorf("stderr does not say the configuration is missing:\n%s", b.out.String())
	}
	if s := b.out.String(); strings.Contains(s, "locale") || strings.Contains(s, "Fyne error") {
		t.Errorf("Fyne complained under LANG=C.UTF-8:\n%s", s)
	}
	if pids := busDaemonsOn(t, d.Env()); len(pids) > 0 {
		t.Errorf("perch-tray autolaunched a session bus: processes %v with its DISPLAY", pids)
	}
	b.stop(t, 2)
}

// TestConfigErrorWindow: with a configuration it cannot use, perch-tray
// shows the error in a window too, and exits 2 when stopped.
func TestConfigErrorWindow(t *testing.T) {
	need(t, "Xorg")
	d := startXorg(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("default = \"desk\"\n[profile.desk]\nserver = \"nowhere\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startLoneTray(t, d, dir, cfg)
	b.waitWindow(t, d, ui.ConfigErrorTitle)
	if !strings.Contains(b.out.String(), cfg) {
		t.Errorf("stderr does not name the file:\n%s", b.out.String())
	}
	b.stop(t, 2)
}

// loneTray is a perch-tray started as a menu or the autostart would on a
// machine with no session bus and LANG=C.UTF-8.
type loneTray struct {
	cmd    *exec.Cmd
	out    *syncBuf
	exited chan error
}

func startLoneTray(t *testing.T, d *testbed.Display, dir, cfg string) *loneTray {
	t.Helper()
	b := &loneTray{out: &syncBuf{}, exited: make(chan error, 1)}
	b.cmd = exec.Command(trayBinary(t), "--config", cfg, "--socket", filepath.Join(dir, "control.sock"))
	b.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") || strings.HasPrefix(kv, "LANGUAGE=") ||
			strings.HasPrefix(kv, "LC_ALL=") || strings.HasPrefix(kv, "LC_MESSAGES=")
	})
	b.cmd.Env = append(b.cmd.Env, d.Env()...)
	b.cmd.Env = append(b.cmd.Env, "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_RUNTIME_DIR="+dir, "LANG=C.UTF-8")
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("perch-tray output:\n%s", b.out.String())
		}
	})
	return b
}

// waitWindow waits for a window titled title, failing if perch-tray exits
// first.
func (b *loneTray) waitWindow(t *testing.T, d *testbed.Display, title string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		names, err := d.WindowNames()
		if err == nil && slices.Contains(names, title) {
			return
		}
		select {
		case err := <-b.exited:
			t.Fatalf("perch-tray exited (%v) without showing %q", err, title)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q window after 30 s (windows: %q, %v)", title, names, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and wants exit status code.
func (b *loneTray) stop(t *testing.T, code int) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != code {
			t.Errorf("perch-tray ended with %v, want exit status %d", err, code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch-tray did not stop on SIGTERM")
	}
}

// busDaemonsOn lists the dbus-daemon and dbus-launch processes whose
// environment has the display's DISPLAY: what an autolaunch by perch-tray
// leaves behind.
func busDaemonsOn(t *testing.T, denv []string) []string {
	t.Helper()
	var display string
	for _, kv := range denv {
		if strings.HasPrefix(kv, "DISPLAY=") {
			display = kv
		}
	}
	if display == "" {
		t.Fatal("the bed's environment has no DISPLAY")
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var pids []string
	for _, c := range procs {
		comm, err := os.ReadFile(c)
		name := strings.TrimSpace(string(comm))
		if err != nil || (name != "dbus-daemon" && name != "dbus-launch") {
			continue
		}
		env, err := os.ReadFile(filepath.Join(filepath.Dir(c), "environ"))
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), display) {
			pids = append(pids, filepath.Base(filepath.Dir(c))+" "+name)
		}
	}
	return pids
}
