package testbed

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// Bus is a private D-Bus session bus.
type Bus struct {
	Addr string
	cmd  *exec.Cmd
	dir  string // holds the bus's socket; removed by Close
}

// StartSessionBus starts a private session bus (dbus-daemon).
func StartSessionBus() (*Bus, error) {
	bin, err := findBinary("dbus-daemon")
	if err != nil {
		return nil, err
	}
	// The socket goes into a directory of the bus's own, which Close
	// removes, rather than session.conf's /tmp.
	dir, err := os.MkdirTemp("", "perch-dbus-")
	if err != nil {
		return nil, fmt.Errorf("create the bus directory: %w", err)
	}
	cmd := exec.Command(bin, "--config-file=/usr/share/dbus-1/session.conf", "--nofork", "--print-address=1", "--address=unix:dir="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("dbus-daemon printed no address")
		}
		return &Bus{Addr: a, cmd: cmd, dir: dir}, nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dbus-daemon did not start within 10s")
	}
}

// Close stops the bus.
func (b *Bus) Close() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
	os.RemoveAll(b.dir)
}

// Watcher is a minimal org.kde.StatusNotifierWatcher, as a desktop's tray
// host provides: tray icons register with it. Items receives the bus name
// of each registered item.
type Watcher struct {
	Items chan string
	conn  *dbus.Conn
}

// WatcherName is the StatusNotifierWatcher's well-known bus name.
const WatcherName = "org.kde.StatusNotifierWatcher"

// RegisterStatusNotifierItem is the D-Bus method items call.
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	if strings.HasPrefix(service, ":") {
		sender = dbus.Sender(service)
	}
	select {
	case w.Items <- string(sender):
	default:
	}
	return nil
}

// RegisterStatusNotifierHost is the D-Bus method hosts call.
func (w *Watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// Close releases the watcher's connection.
func (w *Watcher) Close() { w.conn.Close() }

// StartWatcher owns the StatusNotifierWatcher name on the bus.
func (b *Bus) StartWatcher() (*Watcher, error) {
	conn, err := dbus.Connect(b.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the test bus: %w", err)
	}
	w := &Watcher{Items: make(chan string, 8), conn: conn}
	const path = "/StatusNotifierWatcher"
	if err := conn.Export(w, path, WatcherName); err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := prop.Export(conn, path, prop.Map{WatcherName: {
		"IsStatusNotifierHostRegistered": {Value: true},
		"ProtocolVersion":                {Value: int32(0)},
		"RegisteredStatusNotifierItems":  {Value: []string{}},
	}}); err != nil {
		conn.Close()
		return nil, err
	}
	reply, err := conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("own %s: %v (reply %d)", WatcherName, err, reply)
	}
	return w, nil
}
