//go:build (linux || freebsd || openbsd || netbsd) && !android

package ui

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestClickDuringRebuild clicks the tray menu over D-Bus, from several
// clients at once, while the menu is rebuilt as fast as it goes: a click
// that met a rebuild was a send on a closed channel in fyne.io/systray,
// a panic that ended perch-tray (and its in-process agent).
func TestClickDuringRebuild(t *testing.T) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if testbed.InCI() {
			t.Fatal("dbus-daemon (scripts/deps.sh) is needed")
		}
		t.Skip("!!! no dbus-daemon")
	}
	bus, err := testbed.StartSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	w, err := bus.StartWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Addr)
	app := test.NewApp()
	defer app.Quit()
	s := NewStatusNotifier(app).(*statusNotifier)
	menu := func(n int) *fyne.Menu {
		items := []*fyne.MenuItem{fyne.NewMenuItem("perch · "+strconv.Itoa(n), nil), fyne.NewMenuItemSeparator()}
		for i := range 8 {
			mi := fyne.NewMenuItem("profile "+strconv.Itoa(i), nil)
			mi.Checked = i == n%8
			items = append(items, mi)
		}
		return fyne.NewMenu("", items...)
	}
	s.SetSystemTrayMenu(menu(0))
	defer s.Close()
	var name string
	select {
	case name = <-w.Items:
	case <-time.After(20 * time.Second):
		t.Fatal("no StatusNotifierItem registered")
	}

	// first is the id of the current menu's first entry.
	var first atomic.Int32
	firstID := func() {
		var id int32
		fmt.Sscanf(s.items[0].String(), "MenuItem[%d,", &id)
		first.Store(id)
	}
	firstID()
	var clicks atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		conn, err := dbus.SessionBusPrivate()
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Auth(nil); err != nil {
			t.Fatal(err)
		}
		if err := conn.Hello(); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		obj := conn.Object(name, "/StatusNotifierItem/menu")
		wg.Go(func() {
			for i := int32(0); ; i++ {
				id := first.Load() + i%10
				select {
				case <-stop:
					return
				default:
				}
				// The entries of the menu shown now.
				if err := obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err; err != nil {
					t.Errorf("Event: %v", err)
					return
				}
				clicks.Add(1)
			}
		})
	}
	deadline := time.Now().Add(3 * time.Second)
	n := 1
	for ; time.Now().Before(deadline); n++ {
		s.SetSystemTrayMenu(menu(n))
		firstID()
	}
	close(stop)
	wg.Wait()
	t.Logf("%d rebuilds, %d clicks", n, clicks.Load())
	if clicks.Load() < 100 {
		t.Errorf("only %d clicks reached the menu", clicks.Load())
	}
	// The interleaving itself, which the clicks above meet only by
	// chance: systray's click handler found an entry under its lock, the
	// menu is rebuilt, then the handler sends on the entry's channel.
	found := slices.Clone(s.items)
	s.SetSystemTrayMenu(menu(n + 1))
	for _, it := range found {
		select {
		case it.ClickedCh <- struct{}{}:
		default:
		}
	}
}
