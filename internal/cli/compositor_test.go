package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/mutter"
)

// startMutter runs a nested GNOME (two dummy monitors, LVDS1 and LVDS2,
// with three modes each) for one test and returns its environment.
func startMutter(t *testing.T) (*testbed.Mutter, map[string]string) {
	t.Helper()
	m, err := testbed.StartMutter(testbed.MutterOptions{Monitors: 2, Modes: "1920x1080:1280x1024:1024x768"})
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("nested mutter: %v", err)
		}
		t.Skipf("!!! SKIPPED: no nested mutter (make deps installs it): %v", err)
	}
	t.Cleanup(m.Close)
	return m, envMap(m.Env())
}

func envMap(kvs []string) map[string]string {
	vars := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return vars
}

// gnomeLayout is what Mutter shows: name WxH+X+Y rotation per monitor on.
func gnomeLayout(t *testing.T, m *testbed.Mutter) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := mutter.DialBus(ctx, m.Bus.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sc, err := b.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, o := range sc.Outputs {
		if o.Enabled {
			parts = append(parts, fmt.Sprintf("%s %dx%d+%d+%d %s", o.Name, o.CurrentMode.Width, o.CurrentMode.Height, o.X, o.Y, o.Rotation))
		}
	}
	return strings.Join(parts, "; ")
}

const gnomeProfiles = `[profile.side]
[[profile.side.output]]
name = "LVDS1"
mode = "1280x1024"
primary = true
[[profile.side.output]]
name = "LVDS2"
right-of = "LVDS1"
rotate = "left"

[profile.solo]
[[profile.solo.output]]
name = "LVDS2"
mode = "1024x768@60"
`

// TestMutterLayout: on GNOME (nested mutter), perch outputs names the
// backend and the monitors' fingerprints, layout apply arranges them
// (rotation included) and --dry-run changes nothing; a mode the monitor
// lacks is refused (exit 2) with what it has.
func TestMutterLayout(t *testing.T) {
	m, vars := startMutter(t)
	cfg := writeConfig(t, gnomeProfiles+"[profile.bad]\n[[profile.bad.output]]\nname = \"LVDS1\"\nmode = \"1600x900\"\n")
	r := perch(t, vars, "outputs")
	if r.code != 0 || !strings.Contains(r.stdout, "Backend: mutter") || !strings.Contains(r.stdout, "LVDS2 connected") ||
		!strings.Contains(r.stdout, " id ") {
		t.Fatalf("outputs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before := gnomeLayout(t, m)
	r = perch(t, vars, "layout", "apply", "--dry-run", "--json", "--config", cfg, "side")
	var v PlanView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 || v.Backend != "mutter" || len(v.Outputs) != 2 {
		t.Fatalf("dry run: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got := gnomeLayout(t, m); got != before {
		t.Errorf("--dry-run changed the layout: %s", got)
	}
	if r = perch(t, vars, "layout", "apply", "--config", cfg, "side"); r.code != 0 {
		t.Fatalf("apply side: exit %d %s", r.code, r.stderr)
	}
	if got, want := gnomeLayout(t, m), "LVDS1 1280x1024+0+0 normal; LVDS2 1920x1080+1280+0 left"; got != want {
		t.Errorf("side: %s, want %s", got, want)
	}
	r = perch(t, vars, "layout", "apply", "--config", cfg, "bad")
	if r.code != 2 || !strings.Contains(r.stderr, "has no mode 1600x900") || !strings.Contains(r.stderr, "1280x1024@60.00") {
		t.Errorf("bad: exit %d %s", r.code, r.stderr)
	}
	// layout save writes what GNOME shows, matched by make/model/serial;
	// applied again it is what is on screen already.
	if r = perch(t, vars, "layout", "save", "--config", cfg, "mine"); r.code != 0 {
		t.Fatalf("save: exit %d %s", r.code, r.stderr)
	}
	r = perch(t, vars, "layout", "apply", "--dry-run", "--json", "--config", cfg, "mine")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.Unchanged {
		t.Errorf("the saved profile is not what is on screen: %v\n%s%s", err, r.stdout, r.stderr)
	}
	r = perch(t, vars, "outputs", "--json")
	var sv struct {
		Backend string
		Outputs []struct{ Fingerprint string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &sv); err != nil || sv.Backend != "mutter" || len(sv.Outputs) != 2 {
		t.Fatalf("outputs --json: %v %s", err, r.stdout)
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), sv.Outputs[0].Fingerprint) || !strings.Contains(string(b), "rotate = \"left\"") {
		t.Errorf("saved profile:\n%s", b)
	}
}

// TestMutterUp: perch up with a profile that has outputs and a session,
// on GNOME, end to end: the layout is Mutter's, the session attached.
func TestMutterUp(t *testing.T) {
	needRemote(t)
	m, vars := startMutter(t)
	cfg := writeConfig(t, fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q
keepalive = "500ms"

%s`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, strings.Replace(strings.ReplaceAll(gnomeProfiles, "profile.side", "profile.desk"),
		"[profile.desk]\n", fmt.Sprintf("[profile.desk]\nserver = \"bed\"\ndisplays = [%d]\n", remoteBed.xpra.Display), 1)))
	up := upInProcess(t, vars, "desk", "--config", cfg)
	name := fmt.Sprintf(":%d", remoteBed.xpra.Display)
	st := waitStatus(t, up.sock, "the session attached", 60*time.Second, func(s api.Status) bool {
		state, _ := session(s, name)
		return state == "attached"
	})
	if st.Profile != "desk" || len(st.Screen.Outputs) != 2 {
		t.Errorf("status: profile %s, screen %+v", st.Profile, st.Screen)
	}
	if got, want := gnomeLayout(t, m), "LVDS1 1280x1024+0+0 normal; LVDS2 1920x1080+1280+0 left"; got != want {
		t.Errorf("desk: %s, want %s", got, want)
	}
	// Switching profile re-arranges the monitors through Mutter.
	if r := perch(t, nil, "switch", "solo", "--socket", up.sock); r.code != 0 {
		t.Fatalf("switch solo: %d %s", r.code, r.stderr)
	}
	if got, want := gnomeLayout(t, m), "LVDS2 1024x768+0+0 normal"; got != want {
		t.Errorf("solo: %s, want %s", got, want)
	}
}

const swayAutoConfig = `output HEADLESS-1 mode --custom 1920x1080@60Hz
output HEADLESS-2 mode --custom 1280x1024@60Hz
output HEADLESS-3 mode --custom 1024x768@60Hz
`

const swayProfiles = `[profile.two]
match = ["HEADLESS-1", "HEADLESS-2"]
[[profile.two.output]]
name = "HEADLESS-1"
mode = "1920x1080"
[[profile.two.output]]
name = "HEADLESS-2"
mode = "1280x1024"
left-of = "HEADLESS-1"

[profile.three]
match = ["HEADLESS-1", "HEADLESS-2", "HEADLESS-3"]
[[profile.three.output]]
name = "HEADLESS-1"
mode = "1920x1080"
primary = true
[[profile.three.output]]
name = "HEADLESS-2"
mode = "1280x1024"
right-of = "HEADLESS-1"
rotate = "right"
[[profile.three.output]]
name = "HEADLESS-3"
mode = "1024x768"
below = "HEADLESS-1"
`

// swayLayout is sway's own account of its outputs (its IPC).
func swayLayout(t *testing.T, s *testbed.Sway) string {
	t.Helper()
	outs, err := s.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, o := range outs {
		parts = append(parts, fmt.Sprintf("%s %dx%d+%d+%d", o.Name, o.Rect.Width, o.Rect.Height, o.Rect.X, o.Rect.Y))
	}
	return strings.Join(parts, "; ")
}

// TestSwayAuto: on sway (wlroots), perch up auto picks the profile of
// the outputs there, and switches when sway gets another output at run
// time (swaymsg create_output), arranging it through
// wlr-output-management; primary is ignored there.
func TestSwayAuto(t *testing.T) {
	vars := needX(t)
	s, err := testbed.StartSway(2, swayAutoConfig)
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("sway: %v", err)
		}
		t.Skipf("!!! SKIPPED: no sway (make deps installs it): %v", err)
	}
	t.Cleanup(s.Close)
	for k, v := range envMap(s.Env()) {
		vars[k] = v
	}
	r := perch(t, vars, "outputs")
	if r.code != 0 || !strings.Contains(r.stdout, "Backend: wlroots") || !strings.Contains(r.stdout, "HEADLESS-2 connected") {
		t.Fatalf("outputs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cfg := writeConfig(t, swayProfiles)
	up := upInProcess(t, vars, "auto", "--config", cfg)
	waitStatus(t, up.sock, "profile two", 20*time.Second, func(st api.Status) bool { return st.Profile == "two" })
	if got, want := swayLayout(t, s), "HEADLESS-1 1920x1080+1280+0; HEADLESS-2 1280x1024+0+0"; got != want {
		t.Errorf("two: %s, want %s", got, want)
	}
	if out, err := exec.Command("swaymsg", "-s", s.IPC, "create_output").CombinedOutput(); err != nil {
		t.Fatalf("create_output: %v %s", err, out)
	}
	waitStatus(t, up.sock, "profile three", 20*time.Second, func(st api.Status) bool { return st.Profile == "three" })
	want := "HEADLESS-1 1920x1080+0+0; HEADLESS-2 1024x1280+1920+0; HEADLESS-3 1024x768+0+1080"
	deadline := time.Now().Add(10 * time.Second)
	for got := swayLayout(t, s); got != want; got = swayLayout(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("three: %s, want %s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(up.logs.String(), "primary is ignored") {
		t.Errorf("no note that primary is ignored on wlroots:\n%s", up.logs.String())
	}
}
