package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// WatcherName is the bus name of the StatusNotifierWatcher, the tray host
// that Fyne's system tray registers with.
const WatcherName = "org.kde.StatusNotifierWatcher"

// TrayHostOnDBus reports whether a StatusNotifierWatcher owns its name on
// the session bus. Without one, Fyne's tray icon would be invisible.
func TrayHostOnDBus() (bool, error) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// godbus would otherwise try to autolaunch a bus.
		rt := os.Getenv("XDG_RUNTIME_DIR")
		if rt == "" {
			return false, errors.New("no session bus: DBUS_SESSION_BUS_ADDRESS is not set")
		}
		if _, err := os.Stat(filepath.Join(rt, "bus")); err != nil {
			return false, fmt.Errorf("no session bus: DBUS_SESSION_BUS_ADDRESS is not set: %w", err)
		}
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false, fmt.Errorf("session bus: %w", err)
	}
	defer conn.Close()
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, WatcherName).Store(&has); err != nil {
		return false, fmt.Errorf("session bus: ask for %s: %w", WatcherName, err)
	}
	return has, nil
}
