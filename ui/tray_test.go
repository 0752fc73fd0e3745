package ui

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/perchdesk/perch/api"
)

// fakeBackend is an agent whose status the test sets.
type fakeBackend struct {
	changes chan struct{}

	mu    sync.Mutex
	st    api.Status
	err   error
	calls []string
}

func newFakeBackend(st api.Status, err error) *fakeBackend {
	return &fakeBackend{changes: make(chan struct{}, 1), st: st, err: err}
}

func (f *fakeBackend) Status(context.Context) (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

// set changes the status and signals it.
func (f *fakeBackend) set(st api.Status, err error) {
	f.mu.Lock()
	f.st, f.err = st, err
	f.mu.Unlock()
	signal(f.changes)
}

func (f *fakeBackend) record(c string) error {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if strings.HasSuffix(c, "broken") {
		return errors.New("it broke")
	}
	signal(f.changes)
	return nil
}

func (f *fakeBackend) Switch(_ context.Context, p string) error    { return f.record("switch " + p) }
func (f *fakeBackend) Reconnect(_ context.Context, s string) error { return f.record("reconnect " + s) }
func (f *fakeBackend) Reload(context.Context) error                { return f.record("reload") }
func (f *fakeBackend) Changes() <-chan struct{}                    { return f.changes }

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// deskApp is the test app with a system tray: it records the menu and icon.
type deskApp struct {
	fyne.App
	mu    sync.Mutex
	menu  *fyne.Menu
	icon  fyne.Resource
	menus int
}

func (d *deskApp) SetSystemTrayMenu(m *fyne.Menu) {
	d.mu.Lock()
	d.menu = m
	d.menus++
	d.mu.Unlock()
}

func (d *deskApp) SetSystemTrayIcon(r fyne.Resource) {
	d.mu.Lock()
	d.icon = r
	d.mu.Unlock()
}

func (d *deskApp) SetSystemTrayWindow(fyne.Window) {}

func (d *deskApp) iconName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.icon == nil {
		return ""
	}
	return d.icon.Name()
}

// harness runs a Tray on the test app.
type harness struct {
	t       *testing.T
	tray    *Tray
	b       *fakeBackend
	app     *deskApp
	updates chan struct{}
	quit    chan struct{}

	mu     sync.Mutex
	notes  []string
	logbuf strings.Builder
}

func start(t *testing.T, st api.Status, err error, host bool) *harness {
	t.Helper()
	h := &harness{t: t, b: newFakeBackend(st, err), updates: make(chan struct{}, 64), quit: make(chan struct{}, 1)}
	h.app = &deskApp{App: test.NewTempApp(t)}
	h.tray = New(Options{
		App: h.app, Backend: h.b,
		TrayHost: func() (bool, error) { return host, nil },
		Notify: func(title, body string) {
			h.mu.Lock()
			h.notes = append(h.notes, title+": "+body)
			h.mu.Unlock()
		},
		OnQuit:   func() { h.quit <- struct{}{} },
		OnUpdate: func() { h.updates <- struct{}{} },
	})
	h.tray.Start(context.Background())
	t.Cleanup(h.tray.Wait)
	h.wait()
	return h
}

// wait waits for the next update of the tray.
func (h *harness) wait() {
	h.t.Helper()
	select {
	case <-h.updates:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the tray did not update")
	}
}

func (h *harness) notifications() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.notes
	h.notes = nil
	return n
}

// menuLabels renders the Fyne menu as labels() renders a model.
func menuLabels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			out = append(out, "--")
			continue
		}
		l := it.Label
		if it.Checked {
			l = "[x] " + l
		}
		if it.Disabled {
			l = "(" + l + ")"
		}
		out = append(out, l)
	}
	return out
}

func (h *harness) item(label string) *fyne.MenuItem {
	h.t.Helper()
	for _, it := range h.tray.Menu().Items {
		if it.Label == label {
			return it
		}
	}
	h.t.Fatalf("no menu item %q in %q", label, menuLabels(h.tray.Menu()))
	return nil
}

// twoScreens is a layout: HDMI1 1920x1080 primary, HDMI2 rotated left to
// its right.
func twoScreens() api.Screen {
	return api.Screen{Width: 3000, Height: 1920, Outputs: []api.OutputView{
		{Name: "HDMI1", On: true, Primary: true, Mode: "1920x1080", Refresh: 60, X: 0, Y: 0, Width: 1920, Height: 1080, Rotation: "normal"},
		{Name: "HDMI2", On: true, Mode: "1920x1080", Refresh: 60, X: 1920, Y: 0, Width: 1080, Height: 1920, Rotation: "left"},
	}}
}

func full(link api.LinkState, sess ...string) api.Status {
	st := status("desk", api.ModeManual, link, sess...)
	st.PID, st.Config, st.Screen = 42, "/etc/perch.toml", twoScreens()
	if st.Link != nil {
		st.Link.Address = "quiet:22"
		st.Link.RTT = api.Duration(12 * time.Millisecond)
	}
	for i := range st.Sessions {
		st.Sessions[i].Restarts = i
		st.Sessions[i].Timings.FirstX11 = api.Duration(150 * time.Millisecond)
	}
	return st
}

// TestTrayStates checks the menu, the icon and the status window for each
// state the agent can be in.
func TestTrayStates(t *testing.T) {
	tests := []struct {
		name     string
		st       api.Status
		err      error
		icon     string
		link     string   // a part of the link line
		sessions []string // session table cells, after the header
	}{
		{name: "no server", st: func() api.Status { s := full(""); return s }(),
			icon: "perch-disconnected.png", link: "Link: none"},
		{name: "connecting", st: full(api.LinkConnecting, ":10=starting"),
			icon: "perch-connecting.png", link: "Link to quiet (quiet:22): connecting",
			sessions: []string{":10", "starting", "0", "-", "150 ms", "", "[Restart]"}},
		{name: "connected", st: full(api.LinkUp, ":10=attached", ":11=attached"),
			icon: "perch-connected.png", link: "RTT 12 ms",
			sessions: []string{":10", "attached", "0", "-", "150 ms", "", "[Restart]", ":11", "attached", "1", "-", "150 ms", "", "[Restart]"}},
		{name: "degraded", st: func() api.Status {
			s := full(api.LinkUp, ":10=attached", ":11=backoff")
			s.Sessions[1].LastError = "no session on :11"
			return s
		}(),
			icon: "perch-degraded.png", link: "connected",
			sessions: []string{":10", "attached", "0", "-", "150 ms", "", "[Restart]", ":11", "backoff", "1", "-", "150 ms", "no session on :11", "[Restart]"}},
		{name: "agent unreachable", err: errors.New("no perch agent is running"),
			icon: "perch-disconnected.png", link: "Link: none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.st, tt.err, true)
			if !h.tray.Tray() {
				t.Fatal("a tray host is there but the tray is not used")
			}
			want := labels(Present(tt.st, tt.err, Caps{}))
			if got := menuLabels(h.tray.Menu()); !reflect.DeepEqual(got, want) {
				t.Errorf("menu:\n got %q\nwant %q", got, want)
			}
			h.app.mu.Lock()
			shown := h.app.menu
			h.app.mu.Unlock()
			if shown != h.tray.Menu() || !reflect.DeepEqual(menuLabels(shown), want) {
				t.Errorf("the tray host shows %q", menuLabels(shown))
			}
			if got := h.app.iconName(); got != tt.icon {
				t.Errorf("icon = %s, want %s", got, tt.icon)
			}
			if h.tray.StatusWindow() != nil {
				t.Error("the status window opened by itself though the tray is there")
			}
			h.item("Status…").Action()
			w := h.tray.win
			if w == nil || h.tray.StatusWindow() == nil {
				t.Fatal("Status… opened no window")
			}
			if !strings.Contains(w.link.Text, tt.link) {
				t.Errorf("link line %q lacks %q", w.link.Text, tt.link)
			}
			if tt.err != nil && !strings.Contains(w.summary.Text, tt.err.Error()) {
				t.Errorf("summary %q lacks the error", w.summary.Text)
			}
			if tt.err == nil && !strings.Contains(w.summary.Text, "Profile desk (manual)") {
				t.Errorf("summary %q lacks the profile", w.summary.Text)
			}
			if got := gridCells(w.sessions); !reflect.DeepEqual(got, tt.sessions) {
				t.Errorf("sessions table:\n got %q\nwant %q", got, tt.sessions)
			}
			rects, texts := drawing(t, w.screen)
			if n := len(tt.st.Screen.Outputs); len(rects) != n {
				t.Errorf("%d rectangles drawn, want %d", len(rects), n)
			}
			if tt.err == nil {
				for _, s := range []string{"HDMI1", "1920x1080@60", "normal", "★ primary", "HDMI2", "left"} {
					if !texts[s] {
						t.Errorf("the drawing lacks %q (has %v)", s, texts)
					}
				}
			}
		})
	}
}

// gridCells is the text of a grid's labels after its header row.
func gridCells(c *fyne.Container) []string {
	var out []string
	for i, o := range c.Objects {
		if i < len(sessionHeader) {
			continue
		}
		switch o := o.(type) {
		case *widget.Label:
			out = append(out, o.Text)
		case *fyne.Container: // a row's actions
			var bs []string
			for _, b := range o.Objects {
				bs = append(bs, "["+b.(*widget.Button).Text+"]")
			}
			out = append(out, strings.Join(bs, " "))
		}
	}
	return out
}

// drawing renders the screen view and returns its rectangles and the texts
// shown.
func drawing(t *testing.T, v *screenView) ([]*canvas.Rectangle, map[string]bool) {
	t.Helper()
	r := test.WidgetRenderer(v)
	var rects []*canvas.Rectangle
	texts := map[string]bool{}
	for _, o := range r.Objects() {
		switch o := o.(type) {
		case *canvas.Rectangle:
			rects = append(rects, o)
		case *canvas.Text:
			if o.Visible() {
				texts[o.Text] = true
			}
		}
	}
	return rects, texts
}

// TestTrayLiveUpdate follows the agent through connect, degradation, a
// dropped link and its return: the menu, the icon, the window and the
// notifications follow.
func TestTrayLiveUpdate(t *testing.T) {
	h := start(t, full(api.LinkConnecting, ":10=starting", ":11=starting"), nil, true)
	h.item("Status…").Action()
	menus := func() int { h.app.mu.Lock(); defer h.app.mu.Unlock(); return h.app.menus }
	before := menus()

	steps := []struct {
		st    api.Status
		icon  string
		items []string // menu items that must be there
		cells []string // session states in the window
		notes []string
	}{
		{st: full(api.LinkUp, ":10=attached", ":11=starting"), icon: "perch-degraded.png",
			items: []string{"(desk · quiet connected, 1/2 attached)", ":10: attached", ":11: starting, 1 restart", "Reconnect"},
			cells: []string{"attached", "starting"}},
		{st: full(api.LinkUp, ":10=attached", ":11=attached"), icon: "perch-connected.png",
			items: []string{"(desk · quiet connected)", ":11: attached, 1 restart"},
			cells: []string{"attached", "attached"}},
		{st: func() api.Status {
			s := full(api.LinkDown, ":10=starting", ":11=starting")
			s.Link.LastError = "no keepalive reply for 6s"
			return s
		}(), icon: "perch-connecting.png",
			items: []string{"(desk · quiet reconnecting)", "Connect"},
			cells: []string{"starting", "starting"},
			notes: []string{"Link to quiet dropped: no keepalive reply for 6s"}},
		{st: func() api.Status {
			s := full(api.LinkUp, ":10=attached", ":11=attached")
			s.Link.Reconnects = 1
			return s
		}(), icon: "perch-connected.png",
			items: []string{"(desk · quiet connected)"},
			cells: []string{"attached", "attached"},
			notes: []string{"Link to quiet is back: reconnect 1"}},
		{st: func() api.Status {
			s := full(api.LinkUp, ":10=attached", ":11=backoff")
			s.Link.Reconnects = 1
			s.Sessions[1].LastError = "xpra: no session"
			return s
		}(), icon: "perch-degraded.png",
			items: []string{":11: backoff, 1 restart"},
			cells: []string{"attached", "backoff"},
			notes: []string{"Session :11 failed: xpra: no session"}},
	}
	for i, s := range steps {
		h.b.set(s.st, nil)
		h.wait()
		labels := menuLabels(h.tray.Menu())
		for _, want := range s.items {
			if !contains(labels, want) {
				t.Errorf("step %d: menu %q lacks %q", i, labels, want)
			}
		}
		if got := h.app.iconName(); got != s.icon {
			t.Errorf("step %d: icon %s, want %s", i, got, s.icon)
		}
		cells := gridCells(h.tray.win.sessions)
		var states []string
		for j := 1; j < len(cells); j += len(sessionHeader) {
			states = append(states, cells[j])
		}
		if !reflect.DeepEqual(states, s.cells) {
			t.Errorf("step %d: window session states %q, want %q", i, states, s.cells)
		}
		if got := h.notifications(); !reflect.DeepEqual(got, s.notes) {
			t.Errorf("step %d: notifications %q, want %q", i, got, s.notes)
		}
	}
	if got := menus() - before; got != len(steps) {
		t.Errorf("the tray menu was set %d times for %d changes", got, len(steps))
	}
	// The same status again changes nothing in the tray.
	h.b.set(steps[len(steps)-1].st, nil)
	h.wait()
	if got := menus() - before; got != len(steps) {
		t.Errorf("an unchanged status reset the tray menu (%d times)", got)
	}
	// The agent goes away.
	h.b.set(api.Status{}, errors.New("no perch agent is running"))
	h.wait()
	if got := h.app.iconName(); got != "perch-disconnected.png" {
		t.Errorf("icon %s without an agent", got)
	}
	if got := h.notifications(); !reflect.DeepEqual(got, []string{"perch: no perch agent is running"}) {
		t.Errorf("notifications %q when the agent went away", got)
	}
	if !strings.Contains(h.tray.win.summary.Text, "Agent: no perch agent is running") {
		t.Errorf("summary %q", h.tray.win.summary.Text)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestTrayActions clicks the menu items and checks what reaches the back
// end.
func TestTrayActions(t *testing.T) {
	h := start(t, full(api.LinkDown, ":10=starting", "broken=backoff"), nil, true)
	click := func(label string, want string) {
		t.Helper()
		h.item(label).Action()
		h.wait() // the fake signals a change after each call
		calls := h.b.Calls()
		if len(calls) == 0 || calls[len(calls)-1] != want {
			t.Errorf("%s: calls %q, want last %q", label, calls, want)
		}
	}
	click("couch", "switch couch")
	click("Auto", "switch auto")
	click("Connect", "reconnect ")
	click(":10: starting", "reconnect :10")
	click("Apply layout", "switch desk")

	// A failing action is notified.
	h.item("broken: backoff, 1 restart").Action()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.notes)
		h.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("a failed restart was not notified")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := h.notifications(); !reflect.DeepEqual(got, []string{"perch: restart broken: it broke"}) {
		t.Errorf("notifications %q", got)
	}

	// Apply layout under auto asks for auto again (not a manual override).
	st := full(api.LinkUp)
	st.Mode = api.ModeAuto
	h.b.set(st, nil)
	h.wait()
	click("Apply layout", "switch auto")

	h.item("Quit").Action()
	select {
	case <-h.quit:
	case <-time.After(10 * time.Second):
		t.Fatal("Quit did not call OnQuit")
	}
	if !h.item("Quit").IsQuit {
		t.Error("the Quit item is not marked IsQuit (Fyne would add a second one)")
	}
}

// TestNoTrayHost: without a StatusNotifierWatcher the status window opens
// instead of an invisible tray, and closing it quits.
func TestNoTrayHost(t *testing.T) {
	h := start(t, full(api.LinkUp, ":10=attached"), nil, false)
	if h.tray.Tray() {
		t.Fatal("tray used without a host")
	}
	if h.app.menus != 0 {
		t.Error("the tray menu was set without a host")
	}
	w := h.tray.StatusWindow()
	if w == nil {
		t.Fatal("no status window without a tray host")
	}
	if got := gridCells(h.tray.win.sessions); len(got) != len(sessionHeader) || got[1] != "attached" {
		t.Errorf("sessions %q", got)
	}
	w.Close()
	select {
	case <-h.quit:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the only window did not quit")
	}
}

// TestOwnSystemTray: Options.SystemTray (perch-tray's StatusNotifier)
// shows the icon and menu, not the app's desktop.App.
func TestOwnSystemTray(t *testing.T) {
	own := &deskApp{App: test.NewTempApp(t)}
	app := &deskApp{App: own.App}
	updates := make(chan struct{}, 64)
	tr := New(Options{
		App: app, Backend: newFakeBackend(full(api.LinkUp, ":10=attached"), nil), SystemTray: own,
		TrayHost: func() (bool, error) { return true, nil },
		Notify:   func(string, string) {},
		OnUpdate: func() { updates <- struct{}{} },
	})
	tr.Start(context.Background())
	t.Cleanup(tr.Wait)
	select {
	case <-updates:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray did not update")
	}
	if app.menus != 0 || app.iconName() != "" {
		t.Errorf("the app's tray was used: %d menus, icon %q", app.menus, app.iconName())
	}
	if own.menus == 0 || own.menu != tr.Menu() || own.iconName() != "perch-connected.png" {
		t.Errorf("SystemTray: %d menus, icon %q", own.menus, own.iconName())
	}
}

// TestStatusWindowRender renders the whole window and checks the drawing of
// the layout: two rectangles to scale, side by side, the primary coloured.
func TestStatusWindowRender(t *testing.T) {
	h := start(t, full(api.LinkUp, ":10=attached"), nil, false)
	w := h.tray.StatusWindow()
	w.Resize(fyne.NewSize(760, 640))
	img := w.Canvas().Capture()
	v := h.tray.win.screen
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
	boxes := FitOutputs(twoScreens(), v.Size().Width, v.Size().Height, screenPad)
	if boxes[0].W <= 0 {
		t.Fatalf("the drawing has no size: %v", v.Size())
	}
	scale := w.Canvas().Scale()
	at := func(b Box) (int, int) { // a point inside b, away from the text
		return int((pos.X + b.X + b.W*0.1) * scale), int((pos.Y + b.Y + b.H*0.9) * scale)
	}
	x, y := at(boxes[0])
	if c := img.At(x, y); !sameColour(c, PrimaryFill) {
		t.Errorf("primary output at %d,%d is %v, want %v", x, y, c, PrimaryFill)
	}
	x, y = at(boxes[1])
	if c := img.At(x, y); !sameColour(c, OutputFill) {
		t.Errorf("second output at %d,%d is %v, want %v", x, y, c, OutputFill)
	}
	// The rotated output is taller than wide, and right of the primary.
	if !(boxes[1].H > boxes[1].W && boxes[1].X >= boxes[0].X+boxes[0].W-1) {
		t.Errorf("boxes %+v", boxes)
	}
}

func sameColour(a, b interface{ RGBA() (r, g, b, a uint32) }) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool { return x>>8 <= y>>8+2 && y>>8 <= x>>8+2 }
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}

func TestFitOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sc   api.Screen
		w, h float32
		want []Box
	}{
		{"two side by side, one rotated", twoScreens(), 316, 208,
			// 3000x1920 into 300x192: scale 0.1, no slack.
			[]Box{{8, 8, 192, 108}, {200, 8, 108, 192}}},
		{"centred vertically", api.Screen{Width: 1000, Height: 500, Outputs: []api.OutputView{
			{Name: "A", X: 0, Y: 0, Width: 1000, Height: 500}}}, 116, 116,
			[]Box{{8, 33, 100, 50}}},
		{"size from the mode, rotated", api.Screen{Outputs: []api.OutputView{
			{Name: "A", Mode: "200x100", Rotation: "right"}}}, 116, 216,
			[]Box{{8, 8, 100, 200}}},
		{"too small", twoScreens(), 10, 10, []Box{{}, {}}},
		{"nothing", api.Screen{}, 100, 100, []Box{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FitOutputs(tt.sc, tt.w, tt.h, 8)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				near := func(a, b float32) bool { return a-b < 0.01 && b-a < 0.01 }
				if !near(g.X, w.X) || !near(g.Y, w.Y) || !near(g.W, w.W) || !near(g.H, w.H) {
					t.Errorf("box %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestOutputCaption(t *testing.T) {
	t.Parallel()
	got := OutputCaption(api.OutputView{Name: "DP-1", Mode: "2560x1440", Refresh: 59.95, Rotation: "inverted", Primary: true})
	want := []string{"DP-1", "2560x1440@60", "inverted", "★ primary"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
