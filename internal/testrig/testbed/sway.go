package testbed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/sandbox"
)

// Sway is sway's headless backend with a number of outputs (HEADLESS-1,
// ...) and a config of its own, run as an unprivileged user (sway refuses
// root): the wlroots test bed of the layout backends.
type Sway struct {
	RuntimeDir string // XDG_RUNTIME_DIR: the Wayland and IPC sockets
	Socket     string // the Wayland socket's name (WAYLAND_DISPLAY)
	IPC        string // SWAYSOCK
	Log        string
	proc       *groupProc
}

// Env is the environment of a client of this sway.
func (s *Sway) Env() []string {
	return []string{"XDG_RUNTIME_DIR=" + s.RuntimeDir, "WAYLAND_DISPLAY=" + s.Socket, "SWAYSOCK=" + s.IPC}
}

// Getenv reads Env, for code that takes a getenv function.
func (s *Sway) Getenv(k string) string {
	for _, kv := range s.Env() {
		if len(kv) > len(k) && kv[:len(k)+1] == k+"=" {
			return kv[len(k)+1:]
		}
	}
	return ""
}

// StartSway starts sway headless with n outputs and config (sway's config
// language: "output HEADLESS-1 mode --custom 1920x1080@60Hz"), as
// TestUser when running as root, and waits for its sockets.
func StartSway(n int, config string) (*Sway, error) {
	bin, err := findBinary("sway")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "perch-sway-")
	if err != nil {
		return nil, err
	}
	s := &Sway{RuntimeDir: dir, Log: filepath.Join(dir, "sway.log")}
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "XDG_RUNTIME_DIR=" + dir, "WLR_BACKENDS=headless",
		fmt.Sprintf("WLR_HEADLESS_OUTPUTS=%d", n), "WLR_LIBINPUT_NO_DEVICES=1", "WLR_RENDERER=pixman"}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if os.Getuid() == 0 {
		uid, gid, err := sandbox.EnsureUser(TestUser)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.proc, err = startGroup(cmd, s.Log); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitSockets(20 * time.Second); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w; sway's log: %s", err, tail(s.Log))
	}
	return s, nil
}

// waitSockets waits for sway's Wayland socket and its IPC socket to take
// connections.
func (s *Sway) waitSockets(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ipc, _ := filepath.Glob(filepath.Join(s.RuntimeDir, "sway-ipc.*.sock"))
		way, _ := filepath.Glob(filepath.Join(s.RuntimeDir, "wayland-[0-9]"))
		if len(ipc) == 1 && len(way) == 1 && exec.Command("swaymsg", "-s", ipc[0], "-t", "get_version").Run() == nil {
			s.IPC, s.Socket = ipc[0], filepath.Base(way[0])
			return nil
		}
		select {
		case <-s.proc.done:
			return fmt.Errorf("sway exited before its sockets appeared")
		case <-ctx.Done():
			return fmt.Errorf("sway's sockets did not appear within %s", limit)
		case <-tick.C:
		}
	}
}

// Close stops sway and removes its directory.
func (s *Sway) Close() {
	s.proc.stop()
	os.RemoveAll(s.RuntimeDir)
}

// SwayOutput is one output as sway's IPC reports it: the oracle of the
// wlroots tests. Its transform is named by the clockwise turn, the
// opposite of wl_output's numbering.
type SwayOutput struct {
	Name        string
	Active      bool
	Transform   string
	Rect        struct{ X, Y, Width, Height int }
	CurrentMode struct{ Width, Height, Refresh int } `json:"current_mode"`
}

// Outputs asks sway for its outputs (swaymsg -t get_outputs).
func (s *Sway) Outputs() ([]SwayOutput, error) {
	out, err := exec.Command("swaymsg", "-s", s.IPC, "-r", "-t", "get_outputs").Output()
	if err != nil {
		return nil, fmt.Errorf("swaymsg -t get_outputs: %w", err)
	}
	var outs []SwayOutput
	if err := json.Unmarshal(out, &outs); err != nil {
		return nil, fmt.Errorf("swaymsg -t get_outputs: %w", err)
	}
	return outs, nil
}
