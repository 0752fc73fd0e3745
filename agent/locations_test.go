package agent

// Locations on real parts: one sshd and two xpra servers running xeyes,
// and two X servers standing for two thin clients (the desk and the sofa),
// each with its own agent. The bed is shared by the package's tests and
// stopped by TestMain.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

type locBed struct {
	remote      *testbed.Remote
	sofa        *testbed.Display // the second location's X server
	proxy       *faultproxy.Proxy
	proxyConfig string // reaches sshd through proxy as testbed.ProxyAlias
}

// shared is the package's bed: the desk reaches sshd through a proxy that
// can stall its link.
var shared = testbed.NewBed(testbed.BedOptions{
	What: "sshd, xpra and two Xvfb", Screen: "1024x768x24", Xpras: 2, First: 40, Child: "xeyes",
	ExtraDisplays: 1, Proxy: true,
})

func TestMain(m *testing.M) { shared.Main(m) }

func needLocations(t *testing.T) *locBed {
	t.Helper()
	b := shared.Need(t)
	return &locBed{remote: b.Remote, sofa: b.Extra[0], proxy: b.Proxy, proxyConfig: b.ProxyConfig}
}

// config writes a location's configuration: both displays, with take.
func (b *locBed) config(t *testing.T, location, take string, proxied bool) string {
	return b.configFollow(t, location, take, proxied, 0)
}

// configFollow is config with follow = "activity" after followAfter (0: off).
func (b *locBed) configFollow(t *testing.T, location, take string, proxied bool, followAfter time.Duration) string {
	alias, sshConfig := b.remote.SSHD.HostAlias, b.remote.SSHD.SSHConfig
	if proxied {
		alias, sshConfig = testbed.ProxyAlias, b.proxyConfig
	}
	d := b.remote.Displays()
	follow := ""
	if followAfter > 0 {
		follow = fmt.Sprintf("follow = \"activity\"\nfollow_after = %q", followAfter.String())
	}
	text := fmt.Sprintf(`location = %q
[server.bed]
ssh = %q
ssh_config = %q
keepalive = "1s"

[profile.p]
server = "bed"
displays = [%d, %d]
take = %q
%s
[[profile.p.output]]
name = "screen"
`, location, alias, sshConfig, d[0], d[1], take, follow)
	path := filepath.Join(t.TempDir(), location+".toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// place is one location's running agent.
type place struct {
	name string
	x    *testbed.Display
	a    *Agent
	stop func()
}

func (b *locBed) startPlace(t *testing.T, name string, x *testbed.Display, take string, proxied bool) *place {
	t.Helper()
	return b.startPlaceFollow(t, name, x, take, proxied, 0)
}

func (b *locBed) startPlaceFollow(t *testing.T, name string, x *testbed.Display, take string, proxied bool, followAfter time.Duration) *place {
	t.Helper()
	cfg, err := config.Load(b.configFollow(t, name, take, proxied, followAfter))
	if err != nil {
		t.Fatal(err)
	}
	xd, err := NewXDisplay(x.Name)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logWriter(t), nil)).With("location", name)
	a := New(Options{Config: cfg, Display: xd, NewLink: SSHLinks(x.Name, log, Prompts{}), Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "p") }()
	p := &place{name: name, x: x, a: a}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", name, err)
			}
			xd.Close()
		})
	}
	t.Cleanup(p.stop)
	return p
}

// logWriter discards the agents' logs unless the test runs verbose.
func logWriter(t *testing.T) *os.File {
	if testing.Verbose() {
		return os.Stderr
	}
	f, _ := os.Open(os.DevNull)
	t.Cleanup(func() { f.Close() })
	return f
}

// all reports whether every session of p is in state (held by heldBy).
func (p *place) all(state api.SessionState, heldBy string) bool {
	st := p.a.Status()
	if len(st.Sessions) == 0 {
		return false
	}
	for _, s := range st.Sessions {
		if s.State != state || s.HeldBy != heldBy {
			return false
		}
	}
	return true
}

// lastAttached is when the last of the location's sessions became
// attached.
func (p *place) lastAttached() time.Time {
	var last time.Time
	for _, s := range p.a.Status().Sessions {
		if s.State == api.SessionAttached && s.Since.After(last) {
			last = s.Since
		}
	}
	return last
}

func (p *place) restarts() string {
	var r []string
	for _, s := range p.a.Status().Sessions {
		r = append(r, fmt.Sprintf("%s:%d", s.Name, s.Restarts))
	}
	return strings.Join(r, " ")
}

func (p *place) describe() string {
	var r []string
	for _, s := range p.a.Status().Sessions {
		r = append(r, fmt.Sprintf("%s %s %q restarts %d err %q", s.Name, s.State, s.HeldBy, s.Restarts, s.LastError))
	}
	return p.name + ": " + strings.Join(r, "; ")
}

// windows counts the xeyes windows on a location's screen.
func windows(t *testing.T, x *testbed.Display) int {
	names, err := x.WindowNames()
	// A window that goes while the tree is walked (BadWindow): walk again.
	for try := 0; err != nil && try < 10; try++ {
		names, err = x.WindowNames()
	}
	if err != nil {
		t.Fatalf("windows of %s: %v", x.Name, err)
	}
	n := 0
	for _, name := range names {
		if strings.Contains(name, "xeyes") {
			n++
		}
	}
	return n
}

// attaches counts the `xpra attach :N` processes on the server.
func (b *locBed) attaches(t *testing.T) []int {
	var n []int
	for _, d := range b.remote.Displays() {
		c, err := testbed.ProcessCount(fmt.Sprintf("xpra attach :%d", d))
		if err != nil {
			t.Fatal(err)
		}
		n = append(n, c)
	}
	return n
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool, show ...*place) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			var s []string
			for _, p := range show {
				s = append(s, p.describe())
			}
			t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, strings.Join(s, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// watchWindow is how long the displaced location is watched for a fight:
// PERCH_LOCATIONS_WATCH, else the 2 minutes in CI and 20 s
// elsewhere.
func watchWindow(t *testing.T) time.Duration {
	def := 20 * time.Second
	if testbed.InCI() {
		def = 2 * time.Minute
	}
	return envDuration(t, "PERCH_LOCATIONS_WATCH", def)
}

// envDuration is the duration in the environment variable name, else def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

// TestLocations: the second location takes the displays and the first
// stays off them; take brings them back; if-free does not steal; a
// reconnect after a stalled link does not steal; the lease of a killed
// agent runs out.
func TestLocations(t *testing.T) {
	b := needLocations(t)
	desk := b.startPlace(t, "desk", b.remote.Local, config.TakeAlways, true)
	// One attach time: from start until both displays' windows are up.
	attachTime := waitFor(t, "the desk attached, two windows", 60*time.Second, func() bool {
		return desk.all(api.SessionAttached, "") && windows(t, desk.x) == 2
	}, desk)
	t.Logf("desk attached both displays in %s", attachTime.Round(time.Millisecond))

	// The sofa starts: every display moves there within one attach time.
	sofa := b.startPlace(t, "sofa", b.sofa, config.TakeAlways, false)
	moveStart := time.Now()
	moved := waitFor(t, "the sofa holds both with their windows, the desk elsewhere without", 60*time.Second, func() bool {
		return sofa.all(api.SessionAttached, "") && desk.all(api.SessionElsewhere, "sofa") &&
			windows(t, sofa.x) == 2 && windows(t, desk.x) == 0
	}, desk, sofa)
	sofaAttach := sofa.lastAttached().Sub(moveStart)
	t.Logf("moved to the sofa in %s (the sofa's own attach: %s)", moved.Round(time.Millisecond), sofaAttach.Round(time.Millisecond))
	// The move is the sofa's own attach, then the desk seeing its
	// displays go: within one attach time of the desk's, and a second.
	// The sofa's attach is measured in the same moments as the move (on
	// a busy machine an xpra client's start varies threefold from one
	// minute to the next).
	if limit := sofaAttach + attachTime + time.Second; moved > limit {
		t.Errorf("the move took %s, more than the sofa's attach (%s) and one of the desk's (%s) allow (%s)", moved, sofaAttach, attachTime, limit)
	}

	b.noFight(t, desk, sofa)

	// perch take at the desk brings them back.
	sofaRestarts := sofa.restarts()
	if err := desk.a.Take(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	back := waitFor(t, "the desk took them back", 60*time.Second, func() bool {
		return desk.all(api.SessionAttached, "") && sofa.all(api.SessionElsewhere, "desk") &&
			windows(t, desk.x) == 2 && windows(t, sofa.x) == 0
	}, desk, sofa)
	t.Logf("take back to the desk: %s", back.Round(time.Millisecond))
	if r := sofa.restarts(); r != sofaRestarts {
		t.Errorf("the sofa's restarts moved from %s to %s", sofaRestarts, r)
	}

	// A bad take changes nothing.
	if err := desk.a.Take(context.Background(), []string{":1"}); err == nil || !strings.Contains(err.Error(), `no display session ":1"`) {
		t.Errorf("take of an unknown session: %v", err)
	}

	b.ifFreeAndStalledLink(t, desk, sofa)

	// kill -9 of the holder: once its lease runs out, an if-free agent
	// takes its displays as free.
	b.killedHolder(t)
}

// noFight watches the desk, displaced by the sofa, for watchWindow: one
// client per display, the desk restarts nothing and shows no window.
func (b *locBed) noFight(t *testing.T, desk, sofa *place) {
	deskRestarts := desk.restarts()
	window := watchWindow(t)
	for end := time.Now().Add(window); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if n := b.attaches(t); n[0] != 1 || n[1] != 1 {
			t.Fatalf("xpra attach processes per display %v, want exactly one each\n%s\n%s", n, desk.describe(), sofa.describe())
		}
		if r := desk.restarts(); r != deskRestarts {
			t.Fatalf("the desk's restarts moved from %s to %s", deskRestarts, r)
		}
		if !desk.all(api.SessionElsewhere, "sofa") {
			t.Fatalf("the desk left elsewhere: %s", desk.describe())
		}
		if n := windows(t, desk.x); n != 0 {
			t.Fatalf("%d windows came back to the desk", n)
		}
	}
	t.Logf("watched %s: no fight", window)
}

// ifFreeAndStalledLink: an if-free sofa does not steal from the desk; then
// the desk's link stalls, the sofa takes meanwhile, and the desk's
// reconnect does not steal them back.
func (b *locBed) ifFreeAndStalledLink(t *testing.T, desk, sofa *place) {
	// take = "if-free" at start does not steal from a live location.
	sofa.stop()
	sofa2 := b.startPlace(t, "sofa", b.sofa, config.TakeIfFree, false)
	waitFor(t, "the if-free sofa elsewhere", 30*time.Second, func() bool { return sofa2.all(api.SessionElsewhere, "desk") }, desk, sofa2)
	deskRestarts := desk.restarts()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if !desk.all(api.SessionAttached, "") || desk.restarts() != deskRestarts || windows(t, sofa2.x) != 0 {
			t.Fatalf("the if-free sofa stole:\n%s\n%s", desk.describe(), sofa2.describe())
		}
	}

	// A stalled link at the desk; the sofa takes meanwhile; the desk's
	// reconnect does not steal them back.
	b.proxy.Freeze()
	waitFor(t, "the desk's link lost", 30*time.Second, func() bool {
		st := desk.a.Status()
		return st.Link != nil && st.Link.State != api.LinkUp
	}, desk)
	if err := sofa2.a.Take(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sofa took them", 60*time.Second, func() bool { return sofa2.all(api.SessionAttached, "") }, desk, sofa2)
	b.proxy.Thaw()
	waitFor(t, "the desk back, elsewhere", 60*time.Second, func() bool {
		st := desk.a.Status()
		return st.Link != nil && st.Link.State == api.LinkUp && desk.all(api.SessionElsewhere, "sofa")
	}, desk, sofa2)
	sofaRestarts := sofa2.restarts()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if !sofa2.all(api.SessionAttached, "") || sofa2.restarts() != sofaRestarts || windows(t, desk.x) != 0 {
			t.Fatalf("the reconnecting desk stole:\n%s\n%s", desk.describe(), sofa2.describe())
		}
	}
	desk.stop()
	sofa2.stop()
}

// killedHolder runs a `perch up` at a third location, kills it with
// SIGKILL once it holds the displays, and starts an if-free desk.
func (b *locBed) killedHolder(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "perch")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/perch").CombinedOutput(); err != nil {
		t.Fatalf("build perch: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "up", "p", "--config", b.config(t, "kitchen", config.TakeAlways, false), "--socket", filepath.Join(dir, "s.sock"))
	cmd.Env = append(os.Environ(), b.sofa.Env()...)
	logf, _ := os.Create(filepath.Join(dir, "kitchen.log"))
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	waitFor(t, "the kitchen's windows", 60*time.Second, func() bool { return windows(t, b.sofa) == 2 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	killed := time.Now()
	desk := b.startPlace(t, "desk", b.remote.Local, config.TakeIfFree, false)
	waitFor(t, "the if-free desk takes the dead kitchen's displays", 60*time.Second, func() bool {
		return desk.all(api.SessionAttached, "") && windows(t, desk.x) == 2
	}, desk)
	t.Logf("the if-free desk attached %s after the kill", time.Since(killed).Round(time.Millisecond))
	desk.stop()
}
