package main

// Real-client tests: perch-tray under a real X server and a private D-Bus
// session bus, its menu read and clicked over D-Bus as a desktop shell
// would, and its status window photographed. They skip when a server is
// missing, except in CI (CI=true) where they must run.

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/internal/sys/xshot"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/ui"
)

func need(t *testing.T, bins ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real-client tests")
	}
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			if testbed.InCI() {
				t.Fatalf("%s is missing and CI=true: %v", b, err)
			}
			t.Skipf("\n*** SKIPPED: %s is missing (make deps installs it) ***", b)
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// trayBinary builds perch-tray once per test run.
func trayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "perch-tray-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "perch-tray")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startBus starts a private session bus and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	b, err := testbed.StartSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addr
}

// startWatcher plays the desktop's tray host on the bus at addr.
func startWatcher(t *testing.T, addr string) *testbed.Watcher {
	t.Helper()
	w, err := (&testbed.Bus{Addr: addr}).StartWatcher()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

const trayConfig = `default = "desk"

[profile.desk]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1280x1024"
primary = true
[[profile.desk.output]]
name = "DUMMY1"
mode = "1024x768"
right-of = "DUMMY0"

[profile.sofa]
[[profile.sofa.output]]
name = "DUMMY0"
mode = "1024x768"
primary = true
`

// tray is a running perch-tray.
type tray struct {
	cmd    *exec.Cmd
	socket string
	exited chan struct{} // closed when the process has exited, err set
	err    error
	log    *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startTray(t *testing.T, d *testbed.Display, bus string) *tray {
	t.Helper()
	return startTrayWith(t, d, bus, trayConfig)
}

func startTrayWith(t *testing.T, d *testbed.Display, bus, config string) *tray {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := &tray{socket: filepath.Join(dir, "run", "control.sock"), exited: make(chan struct{}), log: &syncBuf{}}
	tr.cmd = exec.Command(trayBinary(t), "--config", cfg, "--socket", tr.socket)
	tr.cmd.Env = append(os.Environ(), d.Env()...)
	tr.cmd.Env = append(tr.cmd.Env, "DBUS_SESSION_BUS_ADDRESS="+bus, "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_RUNTIME_DIR="+dir, "LANG=C.UTF-8")
	tr.cmd.Stdout, tr.cmd.Stderr = tr.log, tr.log
	tr.cmd.WaitDelay = 2 * time.Second // a child may hold the output pipe
	if err := tr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { tr.err = tr.cmd.Wait(); close(tr.exited) }()
	t.Cleanup(func() {
		select {
		case <-tr.exited:
		default:
			_ = tr.cmd.Process.Kill()
			<-tr.exited
		}
		if t.Failed() {
			t.Logf("perch-tray output:\n%s", tr.log.String())
		}
	})
	return tr
}

// status asks the tray's agent through its control socket.
func (tr *tray) status(t *testing.T) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := (&control.Client{Path: tr.socket}).Status(ctx)
	return st.Profile, st.PID, err
}

// menuItem is one entry of the dbusmenu layout.
type menuItem struct {
	id      int
	label   string
	enabled bool
	toggled bool
}

var (
	itemRE   = regexp.MustCompile(`<\((\d+), \{([^}]*)\}`)
	labelRE  = regexp.MustCompile(`'label': <'((?:[^'\\]|\\.)*)'>`)
	enableRE = regexp.MustCompile(`'enabled': <false>`)
	toggleRE = regexp.MustCompile(`'toggle-state': <1>`)
)

// layout reads the menu with gdbus, as a desktop shell's tray would.
func layout(t *testing.T, bus, item string) []menuItem {
	t.Helper()
	cmd := exec.Command("gdbus", "call", "--session", "--dest", item, "--object-path", "/StatusNotifierItem/menu",
		"--method", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "[]")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gdbus GetLayout: %v\n%s", err, out)
	}
	var items []menuItem
	for _, m := range itemRE.FindAllStringSubmatch(string(out), -1) {
		id, _ := strconv.Atoi(m[1])
		it := menuItem{id: id, enabled: !enableRE.MatchString(m[2]), toggled: toggleRE.MatchString(m[2])}
		if l := labelRE.FindStringSubmatch(m[2]); l != nil {
			it.label = l[1]
		}
		items = append(items, it)
	}
	return items
}

func click(t *testing.T, bus, item string, id int) {
	t.Helper()
	cmd := exec.Command("gdbus", "call", "--session", "--dest", item, "--object-path", "/StatusNotifierItem/menu",
		"--method", "com.canonical.dbusmenu.Event", "--", strconv.Itoa(id), "clicked", "<int32 0>", "0")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gdbus Event: %v\n%s", err, out)
	}
}

func find(items []menuItem, label string) (menuItem, bool) {
	for _, it := range items {
		if it.label == label {
			return it, true
		}
	}
	return menuItem{}, false
}

// eventually polls cond (these are external processes: there is no event
// to wait on) until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startXorg(t *testing.T) *testbed.Display {
	t.Helper()
	d, err := testbed.StartXorg(testbed.XorgOptions{Connected: 2})
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("Xorg: %v", err)
		}
		t.Skipf("\n*** SKIPPED: no Xorg dummy server: %v ***", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitItem returns the StatusNotifierItem tr registers with w; it fails
// the test when tr exits first or registers none within a minute.
func waitItem(t *testing.T, w *testbed.Watcher, tr *tray) string {
	t.Helper()
	select {
	case item := <-w.Items:
		return item
	case <-tr.exited:
		t.Fatalf("perch-tray exited: %v\n%s", tr.err, tr.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("perch-tray registered no StatusNotifierItem\n%s", tr.log.String())
	}
	return ""
}

// trayOnXorg starts perch-tray with the default test configuration on an
// Xorg of its own, with a session bus and a StatusNotifierWatcher, and
// returns the display, the bus, the tray and its registered item.
func trayOnXorg(t *testing.T) (d *testbed.Display, bus string, tr *tray, item string) {
	t.Helper()
	need(t, "Xorg", "dbus-daemon", "gdbus")
	d = startXorg(t)
	bus = startBus(t)
	w := startWatcher(t, bus)
	tr = startTray(t, d, bus)
	return d, bus, tr, waitItem(t, w, tr)
}

// TestTrayMenuOverDBus runs perch-tray with its agent in-process, reads its
// menu over D-Bus, switches the profile and quits with clicks.
func TestTrayMenuOverDBus(t *testing.T) {
	_, bus, tr, item := trayOnXorg(t)
	// The agent runs in the tray's process and serves the socket.
	eventually(t, 20*time.Second, "the agent on the socket", func() bool {
		p, pid, err := tr.status(t)
		return err == nil && p == "desk" && pid == tr.cmd.Process.Pid
	})
	var items []menuItem
	eventually(t, 20*time.Second, "the menu with the profile", func() bool {
		items = layout(t, bus, item)
		_, ok := find(items, "desk · no server")
		return ok
	})
	title, _ := find(items, "desk · no server")
	if title.enabled {
		t.Error("the title line is clickable")
	}
	for _, l := range []string{"Auto", "desk", "sofa", "Apply layout", "Status…", "Quit"} {
		if _, ok := find(items, l); !ok {
			t.Errorf("menu lacks %q: %+v", l, items)
		}
	}
	if it, _ := find(items, "desk"); !it.toggled {
		t.Errorf("desk is not checked: %+v", items)
	}

	sofa, _ := find(items, "sofa")
	click(t, bus, item, sofa.id)
	eventually(t, 20*time.Second, "the switch to sofa", func() bool {
		p, _, err := tr.status(t)
		return err == nil && p == "sofa"
	})
	eventually(t, 20*time.Second, "the menu to follow", func() bool {
		items = layout(t, bus, item)
		it, ok := find(items, "sofa")
		return ok && it.toggled
	})

	quit, ok := find(items, "Quit")
	if !ok {
		t.Fatalf("no Quit: %+v", items)
	}
	click(t, bus, item, quit.id)
	select {
	case <-tr.exited:
		if tr.err != nil {
			t.Fatalf("perch-tray exited with %v", tr.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch-tray did not quit")
	}
	if _, err := os.Stat(tr.socket); !os.IsNotExist(err) {
		t.Errorf("the control socket is left behind: %v", err)
	}
}

// TestStatusWindowScreenshot runs perch-tray without a tray host: it must
// say so and open the status window, whose drawing of the layout is then
// found on a screenshot: two rectangles side by side, to scale.
func TestStatusWindowScreenshot(t *testing.T) {
	need(t, "Xorg", "dbus-daemon")
	d := startXorg(t)
	bus := startBus(t) // a bus, but no StatusNotifierWatcher on it
	tr := startTray(t, d, bus)

	img, prim, other := statusDrawing(t, d)
	dir := os.Getenv("PERCH_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "perch-tray-status.png")
	if err := xshot.WritePNG(shot, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s; primary %v, other %v", shot, prim, other)
	if !strings.Contains(tr.log.String(), "no system tray host") {
		t.Errorf("perch-tray did not say there is no tray host:\n%s", tr.log.String())
	}
	// desk: DUMMY0 1280x1024 (primary) with DUMMY1 1024x768 at its right,
	// top-aligned. The text inside may hide some fill, not the edges.
	near := func(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
	scale := float64(prim.Dx()) / 1280
	if !near(float64(prim.Dy()), 1024*scale, 3) {
		t.Errorf("primary %v is not 1280x1024 to scale", prim)
	}
	if !near(float64(other.Dx()), 1024*scale, 3) || !near(float64(other.Dy()), 768*scale, 3) {
		t.Errorf("other %v is not 1024x768 at the primary's scale %.3f", other, scale)
	}
	if !near(float64(other.Min.X), float64(prim.Max.X), 4) || !near(float64(other.Min.Y), float64(prim.Min.Y), 4) {
		t.Errorf("other %v is not right of the primary %v, top-aligned", other, prim)
	}
}

// statusDrawing waits for the status window's drawing of the layout on
// the screen and returns the screenshot and the primary's and the other
// output's rectangles.
func statusDrawing(t *testing.T, d *testbed.Display) (img *image.RGBA, prim, other image.Rectangle) {
	t.Helper()
	eventually(t, 60*time.Second, "the status window's drawing", func() bool {
		c, err := d.Dial()
		if err != nil {
			return false
		}
		defer c.Close()
		img, err = xshot.Capture(c.X())
		if err != nil {
			return false
		}
		prim, other = bounds(img, ui.PrimaryFill), bounds(img, ui.OutputFill)
		return prim.Dx() > 20 && other.Dx() > 20
	})
	return img, prim, other
}

// glLibRE matches, in /proc/PID/maps, the libraries an OpenGL context
// loads: a GLVND vendor's GLX (libGLX_mesa), a Mesa driver (swrast_dri,
// libgallium) and LLVM. libGL and libGLX themselves are linked, not these.
var glLibRE = regexp.MustCompile(`/(libGLX_\w+|\w+_dri|libgallium[^/]*|libLLVM[^/]*)\.so`)

// glLibs returns the OpenGL libraries process pid has mapped, and its RSS.
func glLibs(t *testing.T, pid int) (libs []string, rss string) {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range glLibRE.FindAllString(string(maps), -1) {
		if !seen[m] {
			seen[m] = true
			libs = append(libs, m)
		}
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if m := regexp.MustCompile(`VmRSS:\s*(\d+ kB)`).FindSubmatch(status); m != nil {
		rss = string(m[1])
	}
	return libs, rss
}

// TestTrayNoOpenGLUntilWindow: while only the tray shows, perch-tray has
// no OpenGL context (Fyne's own tray makes one for a hidden window: about
// 70 MiB of GL driver, LLVM and C heap); Status… opens the status window,
// which makes the context then, and perch-tray goes on until Quit.
func TestTrayNoOpenGLUntilWindow(t *testing.T) {
	d, bus, tr, item := trayOnXorg(t)
	var items []menuItem
	eventually(t, 20*time.Second, "the menu with the profile", func() bool {
		items = layout(t, bus, item)
		_, ok := find(items, "desk · no server")
		return ok
	})
	pid := tr.cmd.Process.Pid
	libs, rss := glLibs(t, pid)
	if len(libs) > 0 {
		t.Errorf("perch-tray loaded OpenGL with only its tray showing: %v", libs)
	}
	t.Logf("tray only: RSS %s", rss)

	status, ok := find(items, "Status…")
	if !ok {
		t.Fatalf("no Status…: %+v", items)
	}
	click(t, bus, item, status.id)
	statusDrawing(t, d)
	libs, rss = glLibs(t, pid)
	if len(libs) == 0 {
		t.Errorf("no OpenGL library mapped with the status window shown: the check above proves nothing (%s)", glLibRE)
	}
	t.Logf("status window shown: RSS %s, %v", rss, libs)

	quit, _ := find(layout(t, bus, item), "Quit")
	click(t, bus, item, quit.id)
	select {
	case <-tr.exited:
		if tr.err != nil {
			t.Fatalf("perch-tray exited with %v", tr.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch-tray did not quit")
	}
}

// bounds is the bounding box of the pixels of colour c.
func bounds(img *image.RGBA, c color.NRGBA) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if p.R == c.R && p.G == c.G && p.B == c.B {
				px := image.Rect(x, y, x+1, y+1)
				if r.Empty() {
					r = px
				} else {
					r = r.Union(px)
				}
			}
		}
	}
	return r
}

// TestTrayConnectOverDBus drives the tray as a desktop shell would, on the
// sshd/xpra bed: Disconnect stops the session on the server, Connect
// attaches it again, Quit stops everything.
func TestTrayConnectOverDBus(t *testing.T) {
	need(t, "Xorg", "dbus-daemon", "gdbus", "xpra")
	d := startXorg(t)
	sshd, err := testbed.StartSSHD()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sshd.Close() })
	if err := sshd.WriteXpraClientDefaults(); err != nil {
		t.Fatal(err)
	}
	xp, err := testbed.StartXpra(testbed.FreeDisplay(70), "xeyes")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xp.Close() })
	bus := startBus(t)
	w := startWatcher(t, bus)
	tr := startTrayWith(t, d, bus, fmt.Sprintf(`default = "desk"
[server.bed]
ssh = %q
ssh_config = %q
[profile.desk]
server = "bed"
displays = [%d]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1024x768"
`, sshd.HostAlias, sshd.SSHConfig, xp.Display))
	item := waitItem(t, w, tr)
	attaches := func() int {
		n, _ := testbed.ProcessCount(fmt.Sprintf("xpra attach :%d", xp.Display))
		return n
	}
	session := fmt.Sprintf(":%d: attached", xp.Display)
	var items []menuItem
	eventually(t, 60*time.Second, "the session attached in the menu", func() bool {
		items = layout(t, bus, item)
		_, ok := find(items, session)
		return ok
	})
	if attaches() != 1 {
		t.Errorf("%d xpra attach on the server, want 1", attaches())
	}
	disc, ok := find(items, "Disconnect")
	if !ok {
		t.Fatalf("no Disconnect: %+v", items)
	}
	click(t, bus, item, disc.id)
	eventually(t, 20*time.Second, "Connect offered and nothing on the server", func() bool {
		items = layout(t, bus, item)
		_, ok := find(items, "Connect")
		return ok && attaches() == 0
	})
	conn, _ := find(items, "Connect")
	click(t, bus, item, conn.id)
	eventually(t, 60*time.Second, "attached again after Connect", func() bool {
		items = layout(t, bus, item)
		_, ok := find(items, session)
		return ok && attaches() == 1
	})
	quit, _ := find(items, "Quit")
	click(t, bus, item, quit.id)
	select {
	case <-tr.exited:
		if tr.err != nil {
			t.Fatalf("perch-tray exited with %v", tr.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch-tray did not quit")
	}
	eventually(t, 15*time.Second, "nothing left on the server", func() bool { return attaches() == 0 })
}
