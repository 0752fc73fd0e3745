package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// benchTray compares the RSS of perch-tray (its agent running the desk
// profile, every session attached) with a bare Fyne tray app, both
// registered with a StatusNotifierWatcher on a private session bus.
func benchTray(w *strings.Builder, b *remoteBed) error {
	dir, err := os.MkdirTemp("", "perch-bench-tray-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tray, bare := filepath.Join(dir, "perch-tray"), filepath.Join(dir, "baretray")
	for bin, pkg := range map[string]string{tray: "./cmd/perch-tray", bare: "./cmd/perch-tray/baretray"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	bus, err := testbed.StartSessionBus()
	if err != nil {
		return err
	}
	defer bus.Close()
	watcher, err := bus.StartWatcher()
	if err != nil {
		return err
	}
	defer watcher.Close()
	env := append(append([]string{}, b.env...), "DBUS_SESSION_BUS_ADDRESS="+bus.Addr)
	measure := func(ready func() error, args ...string) (int, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}()
		select {
		case <-watcher.Items:
		case <-time.After(30 * time.Second):
			return 0, fmt.Errorf("%s: no tray item registered within 30s", args[0])
		}
		if ready != nil {
			if err := ready(); err != nil {
				return 0, err
			}
		}
		time.Sleep(5 * time.Second) // settle
		_, rss, err := procStat(cmd.Process.Pid)
		return rss, err
	}
	bareRSS, err := measure(nil, bare)
	if err != nil {
		return err
	}
	trayRSS, err := measure(func() error { return b.waitWindows(len(b.xpras), 60*time.Second) },
		tray, "--config", b.cfg, "--display", b.local.Name, "--socket", filepath.Join(dir, "tray.sock"), "desk")
	if err != nil {
		return err
	}
	if err := b.waitNoAttach(30 * time.Second); err != nil {
		return err
	}
	fmt.Fprintf(w, "## perch-tray memory vs a bare Fyne tray app\n\n")
	fmt.Fprintf(w, "RSS 5 s after the tray item registered with a StatusNotifierWatcher on a private bus (Xvfb);\n"+
		"perch-tray runs its agent with %d xpra sessions attached. Neither shows a window: Fyne's tray makes\n"+
		"an OpenGL context for a hidden window of its own (GL driver, LLVM, shaders), perch-tray's tray makes\n"+
		"none until it shows its status window or a prompt.\n\n", len(b.xpras))
	fmt.Fprintf(w, "| perch-tray | bare Fyne tray | ratio |\n|---|---|---|\n")
	ratio := float64(trayRSS) / float64(bareRSS)
	fmt.Fprintf(w, "| %.1f MiB | %.1f MiB | %.2f |\n\n", float64(trayRSS)/1024, float64(bareRSS)/1024, ratio)
	fmt.Fprintf(w, "Target: at or below the bare app (%s).\n\n", verdict(ratio <= 1.00))
	return nil
}
