package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/forward"
	"github.com/perchdesk/perch/xrandr"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// fakeDisplay is a screen whose connected outputs the test sets, which
// records the layouts applied and sends events on demand.
type fakeDisplay struct {
	mu        sync.Mutex
	connected []string
	applied   []string // output names of each applied layout, joined
	refuse    string   // output name whose layout is refused
	partial   string   // output name whose layout fails half-way, not undone
	events    chan xrandr.Event
}

func newFakeDisplay(connected ...string) *fakeDisplay {
	return &fakeDisplay{connected: connected, events: make(chan xrandr.Event, 16)}
}

func (d *fakeDisplay) state() *xrandr.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &xrandr.State{Width: 100, Height: 100}
	for i, n := range []string{"HDMI1", "HDMI2", "eDP1", "DP1"} {
		st.Outputs = append(st.Outputs, xrandr.Output{ID: xrandr.OutputID(i + 1), Name: n, Connected: slices.Contains(d.connected, n)})
	}
	return st
}

func (d *fakeDisplay) Probe() (*xrandr.State, error)   { return d.state(), nil }
func (d *fakeDisplay) Current() (*xrandr.State, error) { return d.state(), nil }

func (d *fakeDisplay) Apply(l xrandr.Layout) (*xrandr.Plan, error) {
	var names []string
	for _, o := range l.Outputs {
		if o.Name == d.refuse {
			return nil, &xrandr.LayoutError{Output: o.Name, Msg: "refused by the test"}
		}
		if o.Name == d.partial {
			return nil, &xrandr.StepError{Step: "set the CRTC of " + o.Name, Err: errors.New("failed in the test")}
		}
		names = append(names, o.Name)
	}
	d.mu.Lock()
	d.applied = append(d.applied, strings.Join(names, "+"))
	d.mu.Unlock()
	return &xrandr.Plan{Before: &xrandr.State{}, Width: 1}, nil
}

func (d *fakeDisplay) Watch(ctx context.Context) (<-chan xrandr.Event, error) { return d.events, nil }

// plug changes the connected outputs and sends an event burst.
func (d *fakeDisplay) plug(connected ...string) {
	d.mu.Lock()
	d.connected = connected
	d.mu.Unlock()
	for range 3 {
		d.events <- xrandr.Event{Kind: xrandr.OutputChanged}
	}
}

func (d *fakeDisplay) appliedLayouts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.applied)
}

// fakeLink records what the agent asks of it.
type fakeLink struct {
	server   string
	mu       sync.Mutex
	specs    []sessions.Spec
	forwards []forward.Spec
	running  bool
	stopped  bool
	changes  chan struct{}
	started  chan struct{}
	// forwardErr, when set, is every forward's error in Status, after a
	// slow start (startDelay): a forward that could not listen.
	forwardErr string
	startDelay time.Duration
	// networkChanges counts NetworkChanged calls.
	networkChanges int
}

func (l *fakeLink) Run(ctx context.Context) {
	time.Sleep(l.startDelay) // a slow start, in the synctest bubble's time
	l.mu.Lock()
	l.running = true
	l.mu.Unlock()
	close(l.started)
	<-ctx.Done()
	l.mu.Lock()
	l.running, l.stopped = false, true
	l.mu.Unlock()
}
func (l *fakeLink) SetSessions(s []sessions.Spec) { l.mu.Lock(); l.specs = s; l.mu.Unlock() }
func (l *fakeLink) SetForwards(f []forward.Spec) {
	l.mu.Lock()
	l.forwards = f
	l.mu.Unlock()
}
func (l *fakeLink) Status() sessions.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := sessions.Status{Link: api.LinkStatus{Server: l.server, State: api.LinkUp}}
	for _, s := range l.specs {
		st.Sessions = append(st.Sessions, api.SessionStatus{Name: s.Name, Command: s.Command, State: api.SessionAttached})
	}
	for _, f := range l.forwards {
		st.Forwards = append(st.Forwards, api.ForwardStatus{Listen: f.Listen, To: f.To, LastError: l.forwardErr})
	}
	return st
}
func (l *fakeLink) Changes() <-chan struct{} { return l.changes }
func (l *fakeLink) Started() <-chan struct{} { return l.started }
func (l *fakeLink) Reconnect()               {}
func (l *fakeLink) NetworkChanged() {
	l.mu.Lock()
	l.networkChanges++
	l.mu.Unlock()
}
func (l *fakeLink) RestartSession(name string) error { return nil }
func (l *fakeLink) SetClaims(claims.Config)          {}
func (l *fakeLink) Take(names []string, minAge time.Duration) []string {
	return names
}

type linkLog struct {
	mu    sync.Mutex
	links []*fakeLink
	// failServer's links start after startDelay, their forwards failed
	// with forwardErr.
	failServer string
	forwardErr string
	startDelay time.Duration
}

func (ll *linkLog) factory(name string, srv *config.Server) (Link, error) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	l := &fakeLink{server: name, changes: make(chan struct{}), started: make(chan struct{})}
	if name == ll.failServer {
		l.forwardErr, l.startDelay = ll.forwardErr, ll.startDelay
	}
	ll.links = append(ll.links, l)
	return l, nil
}

func (ll *linkLog) all() []*fakeLink {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	return slices.Clone(ll.links)
}

const testConfig = `
[server.quiet]
ssh = "me@quiet"
[server.loud]
ssh = "me@loud"

[profile.desk]
match = ["HDMI1", "HDMI2"]
server = "quiet"
displays = [10, 11]
[[profile.desk.output]]
name = "HDMI1"
[[profile.desk.output]]
name = "HDMI2"
right-of = "HDMI1"

[profile.deskmail]
server = "quiet"
displays = [10, 12]
[[profile.deskmail.output]]
name = "HDMI1"

[profile.sofa]
match = ["eDP1"]
server = "quiet"
displays = [10]
[[profile.sofa.output]]
name = "eDP1"

[profile.lab]
server = "loud"
displays = [20]
[[profile.lab.output]]
name = "HDMI1"

[profile.local]
[[profile.local.output]]
name = "eDP1"
`

func loadConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type harness struct {
	a     *Agent
	d     *fakeDisplay
	links *linkLog
	stop  func()
	err   chan error
}

func start(t *testing.T, cfg *config.Config, d *fakeDisplay, initial string) *harness {
	t.Helper()
	return startWith(t, cfg, d, initial, nil)
}

// startWith is start with options changed by set (when not nil).
func startWith(t *testing.T, cfg *config.Config, d *fakeDisplay, initial string, set func(*Options)) *harness {
	t.Helper()
	h := &harness{d: d, links: &linkLog{}, err: make(chan error, 1)}
	o := Options{Config: cfg, Display: d, NewLink: h.links.factory, Debounce: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if set != nil {
		set(&o)
	}
	h.a = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.err <- h.a.Run(ctx, initial) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-h.err:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// wait polls the agent's status until cond holds (bounded).
func (h *harness) wait(t *testing.T, what string, cond func(api.Status) bool) api.Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := h.a.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, st)
		}
		select {
		case <-h.a.Changes():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func sessionNames(st api.Status) string {
	var n []string
	for _, s := range st.Sessions {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func TestPick(t *testing.T) {
	cfg := loadConfig(t, testConfig+`
[profile.tie]
match = ["eDP1"]
[[profile.tie.output]]
name = "eDP1"
`)
	for _, tc := range []struct {
		connected []string
		want      string
		err       string
	}{
		{[]string{"HDMI1", "HDMI2", "eDP1"}, "desk", ""}, // desk (2) beats the sofa/tie (1)
		{[]string{"HDMI1", "HDMI2"}, "desk", ""},
		{[]string{"HDMI1"}, "", "no profile's match list is satisfied by the connected outputs (HDMI1)"},
		{[]string{"eDP1"}, "", "profiles sofa and tie match the connected outputs (eDP1) equally (1 entries each)"},
	} {
		got, err := Pick(cfg, newFakeDisplay(tc.connected...).state())
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %q %v; want %q %q", tc.connected, got, err, tc.want, tc.err)
		}
	}
}

func TestSwitchKeepsWhatIsShared(t *testing.T) {
	h := start(t, loadConfig(t, testConfig), newFakeDisplay("HDMI1", "HDMI2", "eDP1"), "desk")
	st := h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" && s.Link != nil })
	if sessionNames(st) != ":10,:11" || st.Mode != api.ModeManual {
		t.Errorf("desk: %s %s", sessionNames(st), st.Mode)
	}
	ctx := context.Background()
	if err := h.a.Switch(ctx, "deskmail"); err != nil {
		t.Fatal(err)
	}
	st = h.a.Status()
	links := h.links.all()
	if len(links) != 1 || sessionNames(st) != ":10,:12" || st.Profile != "deskmail" {
		t.Errorf("same server: %d links, sessions %s, profile %s", len(links), sessionNames(st), st.Profile)
	}
	// Another server: the link is replaced.
	if err := h.a.Switch(ctx, "lab"); err != nil {
		t.Fatal(err)
	}
	links = h.links.all()
	if len(links) != 2 || !links[0].stopped || links[1].server != "loud" {
		t.Errorf("other server: %d links, first stopped %v", len(links), links[0].stopped)
	}
	// No server: no link.
	if err := h.a.Switch(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	if st := h.a.Status(); st.Link != nil || len(st.Sessions) != 0 {
		t.Errorf("local profile still has a link: %+v", st)
	}
	if got := h.d.appliedLayouts(); !slices.Equal(got, []string{"HDMI1+HDMI2", "HDMI1", "HDMI1", "eDP1"}) {
		t.Errorf("layouts applied %q", got)
	}
	// Disconnect stops the link and keeps the profile; Reconnect connects.
	if err := h.a.Switch(ctx, "desk"); err != nil {
		t.Fatal(err)
	}
	if err := h.a.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if st := h.a.Status(); st.Link != nil || !st.Disconnected || st.Profile != "desk" {
		t.Errorf("after disconnect: link %v disconnected %v profile %s", st.Link, st.Disconnected, st.Profile)
	}
	if err := h.a.Disconnect(ctx); err == nil {
		t.Error("a second disconnect was accepted")
	}
	if err := h.a.Reconnect(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if st := h.a.Status(); st.Link == nil || st.Disconnected || sessionNames(st) != ":10,:11" {
		t.Errorf("after reconnect: %+v", st)
	}
	if err := h.a.Switch(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	if got := h.d.appliedLayouts(); len(got) != 6 {
		t.Errorf("layouts applied %q; disconnect/reconnect applied something", got)
	}
	// Unknown profile: refused as user error, nothing changes.
	err := h.a.Switch(ctx, "attic")
	if !errors.Is(err, config.ErrInvalid) || h.a.Status().Profile != "local" {
		t.Errorf("unknown profile: %v", err)
	}
	h.stop()
	for _, l := range h.links.all() {
		if !l.stopped {
			t.Errorf("link %s not stopped", l.server)
		}
	}
}

func TestRefusedLayoutChangesNothing(t *testing.T) {
	d := newFakeDisplay("HDMI1", "HDMI2", "eDP1")
	h := start(t, loadConfig(t, testConfig), d, "desk")
	h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" })
	d.refuse = "eDP1"
	err := h.a.Switch(context.Background(), "sofa")
	if !errors.Is(err, xrandr.ErrLayout) {
		t.Fatalf("error %v", err)
	}
	st := h.a.Status()
	if st.Profile != "desk" || sessionNames(st) != ":10,:11" || !strings.Contains(st.LastError, "refused by the test") {
		t.Errorf("after a refused layout: %s %s %q", st.Profile, sessionNames(st), st.LastError)
	}
}

func TestHooks(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "order")
	cfg := loadConfig(t, testConfig+`
[profile.hooked]
before = ["echo before >> `+marker+`"]
after = ["echo after >> `+marker+`"]
[[profile.hooked.output]]
name = "eDP1"

[profile.broken]
before = ["echo about to fail; exit 3"]
after = ["echo never >> `+marker+`"]
[[profile.broken.output]]
name = "HDMI1"
`)
	d := newFakeDisplay("HDMI1", "eDP1")
	h := start(t, cfg, d, "hooked")
	h.wait(t, "hooked", func(s api.Status) bool { return s.Profile == "hooked" })
	err := h.a.Switch(context.Background(), "broken")
	if err == nil || !strings.Contains(err.Error(), `before hook "echo about to fail; exit 3" failed (exit status 3): about to fail`) {
		t.Errorf("broken hook: %v", err)
	}
	b, _ := os.ReadFile(marker)
	if string(b) != "before\nafter\n" {
		t.Errorf("hooks ran: %q", b)
	}
	if got := d.appliedLayouts(); !slices.Equal(got, []string{"eDP1"}) || h.a.Status().Profile != "hooked" {
		t.Errorf("a failed before hook still switched: %q %s", got, h.a.Status().Profile)
	}
}

// TestAuto runs in a synctest bubble: "nothing happened" is checked once
// the agent is idle past its debounce, not after a guessed sleep.
func TestAuto(t *testing.T) {
	synctest.Test(t, testAuto)
}

func testAuto(t *testing.T) {
	d := newFakeDisplay("eDP1")
	h := start(t, loadConfig(t, testConfig), d, "auto")
	st := h.wait(t, "sofa", func(s api.Status) bool { return s.Profile == "sofa" })
	if st.Mode != api.ModeAuto {
		t.Errorf("mode %s", st.Mode)
	}
	// Docking: the most specific match wins.
	d.plug("HDMI1", "HDMI2", "eDP1")
	h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" })
	n := len(d.appliedLayouts())
	// Events that change nothing connected (as perch's own apply causes)
	// do not switch or re-apply.
	d.plug("HDMI1", "HDMI2", "eDP1")
	synctest.Wait()                    // the agent took the event
	time.Sleep(100 * time.Millisecond) // past the 20 ms debounce, in the bubble's time
	synctest.Wait()                    // and acted on it
	if got := len(d.appliedLayouts()); got != n {
		t.Errorf("an unchanged set of outputs re-applied: %d → %d", n, got)
	}
	// A manual switch overrides auto...
	if err := h.a.Switch(context.Background(), "deskmail"); err != nil {
		t.Fatal(err)
	}
	if st := h.a.Status(); st.Mode != api.ModeManual || st.Profile != "deskmail" {
		t.Errorf("after a manual switch: %s %s", st.Profile, st.Mode)
	}
	// ...until the connected outputs change.
	d.plug("eDP1")
	st = h.wait(t, "back to auto: sofa", func(s api.Status) bool { return s.Profile == "sofa" })
	if st.Mode != api.ModeAuto {
		t.Errorf("mode %s after the monitors changed", st.Mode)
	}
	// Nothing matches: the current profile stays, the error is shown.
	d.plug("DP1")
	st = h.wait(t, "an auto error", func(s api.Status) bool { return strings.Contains(s.LastError, "no profile's match list") })
	if st.Profile != "sofa" {
		t.Errorf("profile %s after no match", st.Profile)
	}
	// Only one link was ever made: all these profiles share the server.
	if n := len(h.links.all()); n != 1 {
		t.Errorf("%d links made", n)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, cfg, newFakeDisplay("HDMI1", "HDMI2"), "desk")
	h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" })
	// A broken file: reported, the profile stays.
	if err := os.WriteFile(path, []byte("[profile.desk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = h.a.Reload(context.Background())
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "still running profile desk") {
		t.Errorf("broken reload: %v", err)
	}
	if st := h.a.Status(); st.Profile != "desk" || sessionNames(st) != ":10,:11" {
		t.Errorf("after a broken reload: %+v", st)
	}
	// A file whose new definition of desk the screen refuses: nothing
	// applied, and the previous configuration stays (lab is still there).
	d := h.d
	d.mu.Lock()
	d.refuse = "DP1"
	d.mu.Unlock()
	applied := len(d.appliedLayouts())
	refused := strings.Replace(testConfig, "right-of = \"HDMI1\"", "right-of = \"HDMI1\"\n[[profile.desk.output]]\nname = \"DP1\"", 1)
	refused = strings.Replace(refused, "[profile.lab]", "[profile.lab2]", 1)
	refused = strings.ReplaceAll(refused, "profile.lab.output", "profile.lab2.output")
	if err := os.WriteFile(path, []byte(refused), 0o600); err != nil {
		t.Fatal(err)
	}
	err = h.a.Reload(context.Background())
	var le *xrandr.LayoutError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "still running profile desk with the previous configuration") {
		t.Errorf("reload with a refused layout: %v", err)
	}
	if st := h.a.Status(); st.Profile != "desk" || !slices.Contains(st.Profiles, "lab") || slices.Contains(st.Profiles, "lab2") ||
		!strings.Contains(st.LastError, "previous configuration") {
		t.Errorf("after a refused reload: profile %s, profiles %v, error %q", st.Profile, st.Profiles, st.LastError)
	}
	if n := len(d.appliedLayouts()); n != applied {
		t.Errorf("a refused reload applied %d layouts", n-applied)
	}
	// The same file, but the new layout fails half-way and cannot be
	// undone: the screen is partly the new configuration's, which stays.
	d.mu.Lock()
	d.refuse, d.partial = "", "DP1"
	d.mu.Unlock()
	err = h.a.Reload(context.Background())
	var se *xrandr.StepError
	if !errors.As(err, &se) || strings.Contains(err.Error(), "previous configuration") {
		t.Errorf("reload with a layout failed half-way: %v", err)
	}
	if st := h.a.Status(); !slices.Contains(st.Profiles, "lab2") {
		t.Errorf("after a layout failed half-way, profiles %v: the new configuration is not the one in effect", st.Profiles)
	}
	d.mu.Lock()
	d.partial = ""
	d.mu.Unlock()
	// A fixed file with desk's displays changed: applied, the link stays.
	if err := os.WriteFile(path, []byte(strings.Replace(testConfig, "displays = [10, 11]", "displays = [10, 11, 13]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.a.Status(); sessionNames(st) != ":10,:11,:13" || len(h.links.all()) != 1 || st.LastError != "" {
		t.Errorf("after reload: %s, %d links, %q", sessionNames(st), len(h.links.all()), st.LastError)
	}
	// The server's settings changed: a new link.
	if err := os.WriteFile(path, []byte(strings.Replace(testConfig, `ssh = "me@quiet"`, `ssh = "me@quiet"`+"\nkeepalive = \"9s\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if links := h.links.all(); len(links) != 2 || !links[0].stopped {
		t.Errorf("server settings changed: %d links", len(links))
	}
}

// TestReloadAutoNoMatch: in auto mode, a new file in which no profile
// matches the monitors is refused as a whole: the previous configuration
// goes on choosing profiles.
func TestReloadAutoNoMatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDisplay("HDMI1", "HDMI2")
	h := start(t, cfg, d, "auto")
	h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" && s.Mode == api.ModeAuto })
	// desk now wants DP1 too, and sofa is gone.
	text := strings.Replace(testConfig, `match = ["HDMI1", "HDMI2"]`, `match = ["HDMI1", "HDMI2", "DP1"]`, 1)
	text = strings.Replace(text, `match = ["eDP1"]`, `match = ["DP1"]`, 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	applied := len(d.appliedLayouts())
	err = h.a.Reload(context.Background())
	var ue *api.UserError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no profile's match list") ||
		!strings.Contains(err.Error(), "still running profile desk with the previous configuration") {
		t.Fatalf("reload with no match: %v", err)
	}
	if st := h.a.Status(); st.Profile != "desk" || st.Mode != api.ModeAuto || len(d.appliedLayouts()) != applied {
		t.Fatalf("after the refused reload: %s %s, %d layouts applied", st.Profile, st.Mode, len(d.appliedLayouts())-applied)
	}
	// The previous configuration still decides: eDP1 alone is sofa there.
	d.plug("eDP1")
	h.wait(t, "sofa by the previous configuration", func(s api.Status) bool { return s.Profile == "sofa" })
}

// TestNetworkChanges: the agent runs WatchNetwork for as long as it runs
// and passes each change to the running link; without a link nothing
// happens.
func TestNetworkChanges(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	d := newFakeDisplay("HDMI1", "HDMI2", "eDP1")
	links := &linkLog{}
	changedFn := make(chan func(), 1)
	watching := make(chan struct{})
	a := New(Options{Config: cfg, Display: d, NewLink: links.factory, Debounce: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WatchNetwork: func(ctx context.Context, changed func()) error {
			changedFn <- changed
			close(watching)
			<-ctx.Done()
			return ctx.Err()
		}})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx, "desk") }()
	changed := testbed.Recv(t, changedFn, 5*time.Second, "WatchNetwork started by Run")
	changed()
	if l := links.all(); len(l) != 1 || l[0].networkChanges != 1 {
		t.Fatalf("after one network change: %d links, changes %v", len(l), func() []int {
			var n []int
			for _, x := range l {
				n = append(n, x.networkChanges)
			}
			return n
		}())
	}
	// A profile without a server: no link to tell.
	if err := a.Switch(context.Background(), "local"); err != nil {
		t.Fatal(err)
	}
	changed()
	if l := links.all(); l[0].networkChanges != 1 {
		t.Errorf("a stopped link was told of a change: %d", l[0].networkChanges)
	}
	cancel()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	select {
	case <-watching:
	default:
		t.Fatal("WatchNetwork never ran")
	}
}

// TestProfileWithoutOutputs: a profile that lists no outputs leaves the
// layout alone (the display is never asked to apply one) and still runs
// its hooks, server and sessions; switching to a profile with outputs
// applies again.
func TestProfileWithoutOutputs(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "hooks")
	cfg := loadConfig(t, testConfig+`
[profile.couch]
server = "quiet"
displays = [10, 12]
before = ["echo before >> `+marker+`"]
after = ["echo after >> `+marker+`"]
`)
	d := newFakeDisplay("eDP1")
	h := start(t, cfg, d, "couch")
	st := h.wait(t, "couch with its sessions and after hook", func(s api.Status) bool {
		b, _ := os.ReadFile(marker)
		return s.Profile == "couch" && sessionNames(s) == ":10,:12" && strings.HasSuffix(string(b), "after\n")
	})
	if !st.LayoutKept || st.Link == nil || st.Link.Server != "quiet" {
		t.Errorf("status %+v", st)
	}
	if got := d.appliedLayouts(); len(got) != 0 {
		t.Errorf("layouts applied for a profile without outputs: %q", got)
	}
	if b, _ := os.ReadFile(marker); string(b) != "before\nafter\n" {
		t.Errorf("hooks ran: %q", b)
	}
	if err := h.a.Switch(context.Background(), "sofa"); err != nil {
		t.Fatal(err)
	}
	if got := d.appliedLayouts(); !slices.Equal(got, []string{"eDP1"}) || h.a.Status().LayoutKept {
		t.Errorf("after switching to sofa: applied %q, kept %v", got, h.a.Status().LayoutKept)
	}
}

// TestLinkStartsWithAFailedForward: a link always starts (sessions.Link's
// contract): one whose forward cannot listen, and that takes a (virtual)
// second to start, makes the switch wait for it and succeed, and the
// forward's error is in the agent's status.
func TestLinkStartsWithAFailedForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := loadConfig(t, testConfig+"[[profile.lab.forward]]\nlisten = \"127.0.0.1:8080\"\nto = \"db:5432\"\n")
		h := start(t, cfg, newFakeDisplay("HDMI1", "HDMI2", "eDP1"), "desk")
		h.links.mu.Lock()
		h.links.failServer, h.links.forwardErr, h.links.startDelay = "loud", "cannot listen: listen tcp 127.0.0.1:8080: bind: address already in use", time.Second
		h.links.mu.Unlock()
		h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" && s.Link != nil })
		asked := time.Now()
		if err := h.a.Switch(context.Background(), "lab"); err != nil {
			t.Fatalf("switch to a profile whose forward cannot listen: %v", err)
		}
		if waited := time.Since(asked); waited < time.Second {
			t.Errorf("the switch returned %s after it was asked, before the link started (1s)", waited)
		}
		st := h.a.Status()
		if st.Profile != "lab" || st.Link == nil || st.Link.Server != "loud" || len(st.Forwards) == 0 ||
			!strings.Contains(st.Forwards[0].LastError, "address already in use") {
			t.Errorf("after the switch: profile %s, link %+v, forwards %+v; want lab on loud with the forward's error", st.Profile, st.Link, st.Forwards)
		}
	})
}
