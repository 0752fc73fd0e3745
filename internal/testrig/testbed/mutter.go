package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

// MutterOptions says how many dummy monitors a nested Mutter has and
// which modes each offers ("1920x1080:1280x1024:1024x768").
type MutterOptions struct {
	Monitors int
	Modes    string
}

// Mutter is GNOME's compositor nested in an Xvfb (mutter --nested
// --wayland --no-x11) on a private session bus, with dummy monitors named
// LVDS1, LVDS2, ...: the GNOME test bed of the layout backends.
type Mutter struct {
	X          *Display
	Bus        *Bus
	RuntimeDir string // XDG_RUNTIME_DIR, holding the Wayland socket
	Log        string
	proc       *groupProc
}

// Env is the environment of a client of this GNOME session:
// DBUS_SESSION_BUS_ADDRESS, WAYLAND_DISPLAY, XDG_RUNTIME_DIR, and the X
// display it is nested in as DISPLAY.
func (m *Mutter) Env() []string {
	return append(m.X.Env(), "DBUS_SESSION_BUS_ADDRESS="+m.Bus.Addr,
		"WAYLAND_DISPLAY=wayland-0", "XDG_RUNTIME_DIR="+m.RuntimeDir)
}

// StartMutter starts a nested Mutter and waits until its DisplayConfig is
// on the bus.
func StartMutter(opts MutterOptions) (*Mutter, error) {
	bin, err := findBinary("mutter")
	if err != nil {
		return nil, err
	}
	x, err := StartXvfb("3840x2160x24")
	if err != nil {
		return nil, err
	}
	m := &Mutter{X: x}
	if m.Bus, err = StartSessionBus(); err != nil {
		x.Close()
		return nil, err
	}
	if m.RuntimeDir, err = os.MkdirTemp("", "perch-mutter-"); err != nil {
		m.Close()
		return nil, err
	}
	m.Log = filepath.Join(m.RuntimeDir, "mutter.log")
	cmd := exec.Command(bin, "--nested", "--wayland", "--no-x11")
	cmd.Env = append(os.Environ(), m.X.Env()...)
	cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS="+m.Bus.Addr, "XDG_RUNTIME_DIR="+m.RuntimeDir,
		fmt.Sprintf("MUTTER_DEBUG_NUM_DUMMY_MONITORS=%d", opts.Monitors), "MUTTER_DEBUG_DUMMY_MODE_SPECS="+opts.Modes)
	if m.proc, err = startGroup(cmd, m.Log); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.waitName(30 * time.Second); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w; mutter's log: %s", err, tail(m.Log))
	}
	return m, nil
}

// waitName waits for org.gnome.Mutter.DisplayConfig to get an owner.
func (m *Mutter) waitName(limit time.Duration) error {
	const name = "org.gnome.Mutter.DisplayConfig"
	conn, err := dbus.Connect(m.Bus.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, name)); err != nil {
		return err
	}
	sigs := make(chan *dbus.Signal, 8)
	conn.Signal(sigs)
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
		return err
	}
	for !has {
		select {
		case <-sigs:
			if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
				return err
			}
		case <-m.proc.done:
			return fmt.Errorf("mutter exited before it took %s", name)
		case <-ctx.Done():
			return fmt.Errorf("mutter did not take %s within %s", name, limit)
		}
	}
	return nil
}

// Close stops Mutter, its bus and its X server.
func (m *Mutter) Close() {
	m.proc.stop()
	if m.Bus != nil {
		m.Bus.Close()
	}
	m.X.Close()
	if m.RuntimeDir != "" {
		os.RemoveAll(m.RuntimeDir)
	}
}
