package testbed

import (
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// TestSessionBus: the bus answers on its address, its socket lives in a
// directory of its own, and Close leaves nothing behind.
func TestSessionBus(t *testing.T) {
	need(t, "dbus-daemon")
	b, err := StartSessionBus()
	if err != nil {
		unavailable(t, "dbus-daemon", err)
	}
	if !strings.Contains(b.Addr, b.dir) {
		t.Errorf("bus address %s is not in the bus's directory %s", b.Addr, b.dir)
	}
	conn, err := dbus.Connect(b.Addr)
	if err != nil {
		b.Close()
		t.Fatalf("connect to the bus: %v", err)
	}
	conn.Close()
	b.Close()
	if exists(b.dir) {
		t.Errorf("Close left %s behind", b.dir)
	}
}
