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
	cfg := filepath.Join(dir, "config.toml") // not there
	var out syncBuf
	cmd := exec.Command(trayBinary(t), "--config", cfg, "--socket", filepath.Join(dir, "control.sock"))
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") || strings.HasPrefix(kv, "LANGUAGE=") ||
			strings.HasPrefix(kv, "LC_ALL=") || strings.HasPrefix(kv, "LC_MESSAGES=")
	})
	cmd.Env = append(cmd.Env, d.Env()...)
	cmd.Env = append(cmd.Env, "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_RUNTIME_DIR="+dir, "LANG=C.UTF-8")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("perch-tray output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		names, err := d.WindowNames()
		if err == nil && slices.Contains(names, ui.FirstRunTitle) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("perch-tray exited (%v) without showing %q", err, ui.FirstRunTitle)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q window after 30 s (windows: %q, %v)", ui.FirstRunTitle, names, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "no configuration file") {
		t.Errorf("stderr does not say the configuration is missing:\n%s", out.String())
	}
	if s := out.String(); strings.Contains(s, "locale") || strings.Contains(s, "Fyne error") {
		t.Errorf("Fyne complained under LANG=C.UTF-8:\n%s", s)
	}
	if pids := busDaemonsOn(t, d.Env()); len(pids) > 0 {
		t.Errorf("perch-tray autolaunched a session bus: processes %v with its DISPLAY", pids)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("perch-tray ended with %v, want exit status 2 (still no configuration)", err)
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
