package main

// Remote mode on a real panel: xfce4-panel's Status Tray plugin (the
// StatusNotifierWatcher for perch-tray's icon, and the XEmbed tray for
// legacy icons such as xpra's own) with perch-tray attaching 4 displays.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// panelConfig is one panel holding only the Status Tray plugin.
const panelConfig = `<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="size" type="uint" value="30"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
`

// startPanel runs xfce4-panel on d with the session bus, and waits until
// its tray answers as the StatusNotifierWatcher.
func startPanel(t *testing.T, d *testbed.Display, bus string) {
	t.Helper()
	dir := t.TempDir()
	xml := filepath.Join(dir, "xfce4", "xfconf", "xfce-perchannel-xml", "xfce4-panel.xml")
	if err := os.MkdirAll(filepath.Dir(xml), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xml, []byte(panelConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("xfce4-panel", "--disable-wm-check")
	cmd.Env = append(os.Environ(), d.Env()...)
	cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS="+bus, "XDG_CONFIG_HOME="+dir, "HOME="+dir)
	log := &syncBuf{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("xfce4-panel said:\n%s", log.String())
		}
	})
	eventually(t, 30*time.Second, "xfce4-panel's tray on the bus", func() bool { _, err := sniItems(bus); return err == nil })
}

// sniItems are the StatusNotifierItems the panel's tray shows.
func sniItems(bus string) (int, error) {
	cmd := exec.Command("gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher", "--object-path", "/StatusNotifierWatcher",
		"--method", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	out, err := cmd.Output()
	if err != nil {
		return 0, err
	}
	return strings.Count(string(out), "'"), nil // each item quoted once: two quotes
}

// xembedIcons counts the legacy tray icons docked in the panel: windows
// below a panel window that carry _XEMBED_INFO, other than the panel's own
// plugin wrappers.
func xembedIcons(t *testing.T, d *testbed.Display) int {
	t.Helper()
	c, err := d.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x := c.X()
	info, err := xproto.InternAtom(x, false, uint16(len("_XEMBED_INFO")), "_XEMBED_INFO").Reply()
	if err != nil {
		t.Fatal(err)
	}
	class := func(w xproto.Window) string {
		p, err := xproto.GetProperty(x, false, w, xproto.AtomWmClass, xproto.GetPropertyTypeAny, 0, 64).Reply()
		if err != nil {
			return ""
		}
		return string(p.Value)
	}
	n := 0
	var walk func(w xproto.Window, inPanel bool)
	walk = func(w xproto.Window, inPanel bool) {
		tree, err := xproto.QueryTree(x, w).Reply()
		if err != nil {
			return
		}
		for _, ch := range tree.Children {
			cl := class(ch)
			if inPanel && !strings.HasPrefix(cl, "wrapper-2.0") && hasProperty(x, ch, info.Atom) {
				n++
			}
			walk(ch, inPanel || strings.HasPrefix(cl, "xfce4-panel"))
		}
	}
	walk(xproto.Setup(x).DefaultScreen(x).Root, false)
	return n
}

func hasProperty(x *xgb.Conn, w xproto.Window, atom xproto.Atom) bool {
	p, err := xproto.GetProperty(x, false, w, atom, xproto.GetPropertyTypeAny, 0, 1).Reply()
	return err == nil && p.Format != 0
}

// TestPanelOneTrayIcon: remote mode with 4 displays on xfce4-panel shows
// one tray icon, perch's, and no "OpenGL" window on the local display
// within 20 s of attaching. The login's xpra has no tray or OpenGL
// settings of its own: perch's client defaults are what keep them away.
func TestPanelOneTrayIcon(t *testing.T) {
	need(t, "dbus-daemon", "gdbus", "xfce4-panel", "Xvfb", "xpra")
	remote, err := testbed.StartRemote("1280x800x24", 4, 50, "xeyes")
	if err != nil {
		if testbed.InCI() {
			t.Fatal(err)
		}
		t.Skipf("\n*** SKIPPED: the remote bed cannot start: %v ***", err)
	}
	t.Cleanup(remote.Close)
	// The bed's client defaults turn the tray and OpenGL off: keep only
	// where the servers are, and no audio.
	conf := fmt.Sprintf("socket-dirs = %s\nspeaker = no\nmicrophone = no\nwebcam = no\nmdns = no\n", remote.Xpras[0].SocketDir)
	if err := os.WriteFile(filepath.Join(remote.SSHD.Home, ".xpra", "xpra.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := startBus(t)
	startPanel(t, remote.Local, bus)
	var ds []string
	for _, d := range remote.Displays() {
		ds = append(ds, fmt.Sprint(d))
	}
	tr := startTrayWith(t, remote.Local, bus, fmt.Sprintf(`default = "desk"
[server.bed]
ssh = %q
ssh_config = %q
[profile.desk]
server = "bed"
displays = [%s]
xpra_args = [%s]
`, remote.SSHD.HostAlias, remote.SSHD.SSHConfig, strings.Join(ds, ", "), os.Getenv("PERCH_TEST_PANEL_XPRA_ARGS")))
	eventually(t, 90*time.Second, "4 displays attached", func() bool {
		st, err := (&control.Client{Path: tr.socket}).Status(t.Context())
		n := 0
		for _, s := range st.Sessions {
			if s.State == api.SessionAttached {
				n++
			}
		}
		return err == nil && n == 4
	})
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		items, _ := sniItems(bus)
		if items != 2 { // one item, quoted
			t.Errorf("%d StatusNotifierItems in the panel, want perch-tray's alone", items/2)
		}
		if n := xembedIcons(t, remote.Local); n != 0 {
			t.Fatalf("%d legacy tray icons (xpra's own) in the panel beside perch-tray's", n)
		}
		names, err := remote.Local.WindowNames()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.Contains(n, "OpenGL") {
				t.Fatalf("a window %q on the local display", n)
			}
		}
		if t.Failed() {
			return
		}
	}
}
