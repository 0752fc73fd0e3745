package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHangupWhileStarting sends SIGHUP to a starting `perch up` while it
// reads its configuration (a named pipe holds it there): the agent lives
// on and reloads once it runs; SIGTERM then stops it cleanly.
func TestHangupWhileStarting(t *testing.T) {
	vars := needX(t)
	bin := buildPerch(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "control.sock")
	var logs syncBuffer
	cmd := exec.Command(bin, "up", "one", "--config", fifo, "--socket", sock)
	cmd.Env = append(os.Environ(), "DISPLAY="+vars["DISPLAY"])
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// feed opens the pipe for writing (which returns once perch opened it
	// for reading: perch is in main), runs then, and writes the file.
	feed := func(then func()) {
		t.Helper()
		opened := make(chan *os.File, 1)
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
			}
			opened <- f
		}()
		var f *os.File
		select {
		case f = <-opened:
		case err := <-exited:
			t.Fatalf("perch up exited before reading its configuration: %v\n%s", err, logs.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("perch up did not read its configuration within 30s\n%s", logs.String())
		}
		then()
		_, _ = f.WriteString(twoScreens)
		f.Close()
	}
	feed(func() {
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	})
	// The hangup is kept: the agent reloads, reading the pipe again.
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(logs.String(), what) {
			select {
			case err := <-exited:
				t.Fatalf("perch up exited: %v\n%s", err, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q within 30s:\n%s", what, logs.String())
			}
		}
	}
	waitLog("perch agent")
	feed(func() {})
	waitLog("configuration reloaded")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && errors.As(err, &ee) || !strings.Contains(logs.String(), "stopped cleanly") {
			t.Errorf("after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch up did not stop within 20s of SIGTERM")
	}
}
