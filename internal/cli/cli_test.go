package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/xrandr"
)

var bed *testbed.Display

func TestMain(m *testing.M) {
	testbed.StableEnv()
	flag.Parse()
	if testing.Short() {
		code := m.Run() // the real-X tests skip (needX)
		if perchBin.dir != "" {
			os.RemoveAll(perchBin.dir) // some -short tests build perch too
		}
		os.Exit(code)
	}
	var err error
	bed, err = testbed.StartXorg(testbed.XorgOptions{Connected: 3})
	if err != nil {
		testbed.Unavailable("Xorg with the dummy driver", err)
		bed = nil
	} else {
		bed.Setenv()
	}
	code := m.Run()
	stopRemote()
	doctorBed3.Close()
	doctorBed6.Close()
	if perchBin.dir != "" {
		os.RemoveAll(perchBin.dir)
	}
	if bed != nil {
		bed.Close()
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// perch runs the command line in-process with the given environment.
func perch(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := e.run(context.Background(), args)
	return result{code, out.String(), errb.String()}
}

func needX(t *testing.T) map[string]string {
	t.Helper()
	testbed.SkipShort(t)
	if bed == nil {
		t.Skip("!!! no Xorg dummy server (see the message above): skipping a real-X test")
	}
	return map[string]string{"DISPLAY": bed.Name}
}

const twoScreens = `# my desk
default = "desk"

[profile.desk]
match = ["DUMMY0", "DUMMY1"]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
[[profile.desk.output]]
name = "DUMMY1"
mode = "1112x700"
right-of = "DUMMY0"

[profile.one]
[[profile.one.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true

[profile.rotated]
[[profile.rotated.output]]
name = "DUMMY0"
mode = "1024x768@60"
[[profile.rotated.output]]
name = "DUMMY1"
mode = "800x600"
right-of = "DUMMY0"
rotate = "left"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// screenView reads the bed's RandR state as perch sees it.
func screenView(t *testing.T) xrandr.ScreenView {
	t.Helper()
	return screenViewOf(t, bed)
}

func screenViewOf(t *testing.T, d *testbed.Display) xrandr.ScreenView {
	t.Helper()
	c, err := d.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	return st.View()
}

func currentLayout(t *testing.T) string {
	t.Helper()
	return layoutOf(t, bed)
}

// layoutOf describes the outputs that are on: "NAME WxH+X+Y rotation; ...".
func layoutOf(t *testing.T, d *testbed.Display) string {
	t.Helper()
	var parts []string
	for _, o := range screenViewOf(t, d).Outputs {
		if o.On {
			parts = append(parts, o.Name+" "+o.Mode+"+"+strconv.Itoa(o.X)+"+"+strconv.Itoa(o.Y)+" "+o.Rotation)
		}
	}
	return strings.Join(parts, "; ")
}

func TestOutputs(t *testing.T) {
	vars := needX(t)
	r := perch(t, vars, "outputs", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var v xrandr.ScreenView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	if len(v.Outputs) != 16 || v.Outputs[0].Name != "DUMMY0" || v.Outputs[0].Connection != "connected" ||
		v.Outputs[9].Connection != "disconnected" || len(v.Outputs[0].Modes) == 0 {
		t.Errorf("outputs: %+v", v.Outputs[:2])
	}
	r = perch(t, vars, "outputs")
	if r.code != 0 || !strings.Contains(r.stdout, "DUMMY0 connected") || !strings.Contains(r.stdout, "DUMMY9 disconnected off") {
		t.Errorf("table (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestLayoutApplyDryRunThenApply(t *testing.T) {
	vars := needX(t)
	cfg := writeConfig(t, twoScreens)
	if r := perch(t, vars, "layout", "apply", "one", "--config", cfg); r.code != 0 {
		t.Fatalf("apply one: %d %s", r.code, r.stderr)
	}
	before := currentLayout(t)

	// Flags after the profile; the config from PERCH_CONFIG.
	vars["PERCH_CONFIG"] = cfg
	r := perch(t, vars, "layout", "apply", "desk", "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: exit %d %s", r.code, r.stderr)
	}
	for _, want := range []string{"profile desk: screen 2136x768", "DUMMY1     1112x700_60.00@59.79 at 1024,0 rotated normal",
		"create (CVT) and add mode 1112x700_60.00 to DUMMY1", `xrandr --newmode "1112x700_60.00" 62.25 1112 1160 1272 1432 700 703 713 727 -hsync +vsync`,
		"xrandr --addmode DUMMY1 1112x700_60.00",
		"--output DUMMY1 --mode 1112x700_60.00 --rate 59.79 --pos 1024x0 --rotate normal"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := currentLayout(t); got != before {
		t.Errorf("dry run changed the screen: %s → %s", before, got)
	}
	r = perch(t, vars, "layout", "apply", "--dry-run", "--json", "desk")
	var pv PlanView
	if err := json.Unmarshal([]byte(r.stdout), &pv); err != nil || pv.Width != 2136 || len(pv.Outputs) != 2 || pv.Unchanged {
		t.Errorf("dry run JSON (%v): %s", err, r.stdout)
	}

	r = perch(t, vars, "layout", "apply", "desk")
	if r.code != 0 || !strings.Contains(r.stdout, "applied profile desk") {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, want := currentLayout(t), "DUMMY0 1024x768+0+0 normal; DUMMY1 1112x700+1024+0 normal"; got != want {
		t.Errorf("layout %q, want %q", got, want)
	}
	r = perch(t, vars, "layout", "apply", "desk")
	if r.code != 0 || !strings.Contains(r.stdout, "already on screen: nothing changed") {
		t.Errorf("second apply: exit %d %s", r.code, r.stdout)
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	vars := needX(t)
	cfg := writeConfig(t, twoScreens)
	if r := perch(t, vars, "layout", "apply", "one", "--config", cfg); r.code != 0 {
		t.Fatalf("apply one: %d %s", r.code, r.stderr)
	}
	before := currentLayout(t)
	bad := writeConfig(t, "[profile.x]\n[[profile.x.output]]\nname = \"DUMMY0\"\nrotate = \"sideways\"\n")
	tests := []struct {
		name string
		args []string
		vars map[string]string
		code int
		want string
	}{
		{"no command", nil, vars, 2, "no command given"},
		{"unknown command", []string{"frobnicate"}, vars, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"outputs", "--jsn"}, vars, 2, "unknown flag --jsn"},
		{"missing profile argument", []string{"layout", "apply", "--config", cfg}, vars, 2, "layout apply needs one PROFILE"},
		{"unknown profile", []string{"layout", "apply", "attic", "--config", cfg}, vars, 2, `no profile "attic" (profiles: desk, one, rotated)`},
		{"bad config names file and line", []string{"layout", "apply", "x", "--config", bad}, vars, 2, bad + ":4: profile.x.output.rotate: unknown rotation \"sideways\""},
		{"missing config", []string{"layout", "apply", "x", "--config", "/nonexistent/perch.toml"}, vars, 2, "/nonexistent/perch.toml does not exist"},
		{"rotation refused by the server", []string{"layout", "apply", "rotated", "--config", cfg}, vars, 2,
			"profile rotated (" + cfg + ":21): output DUMMY1: rotation left is not supported by its CRTC (it supports: normal)"},
		{"no display", []string{"outputs"}, map[string]string{}, 1, "no X display: set DISPLAY or pass --display"},
		{"dead display", []string{"outputs", "--display", ":4711"}, map[string]string{}, 1, "connect to X display :4711"},
		{"check bad", []string{"check", "--config", bad}, vars, 2, ":4: profile.x.output.rotate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := perch(t, tt.vars, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if got := currentLayout(t); got != before {
				t.Errorf("the screen changed: %s → %s", before, got)
			}
		})
	}
	r := perch(t, vars, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "ok (3 profiles: desk, one, rotated; 0 servers)") {
		t.Errorf("check: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestLayoutSaveRoundTrip(t *testing.T) {
	vars := needX(t)
	cfg := writeConfig(t, twoScreens)
	vars["PERCH_CONFIG"] = cfg
	// Arrange something no profile describes: DUMMY1 below DUMMY2.
	tmp := writeConfig(t, `[profile.odd]
[[profile.odd.output]]
name = "DUMMY2"
mode = "1280x1024@60"
[[profile.odd.output]]
name = "DUMMY1"
mode = "800x600@60"
below = "DUMMY2"
primary = true
`)
	if r := perch(t, vars, "layout", "apply", "odd", "--config", tmp); r.code != 0 {
		t.Fatalf("apply odd: %s", r.stderr)
	}
	odd := currentLayout(t)
	r := perch(t, vars, "layout", "save", "kitchen")
	if r.code != 0 || !strings.Contains(r.stdout, "saved the current layout as profile kitchen in "+cfg) {
		t.Fatalf("save: %d %s %s", r.code, r.stdout, r.stderr)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.HasPrefix(string(b), twoScreens) || !strings.Contains(string(b), "[profile.kitchen]") {
		t.Errorf("config after save:\n%s", b)
	}
	if r := perch(t, vars, "layout", "save", "kitchen"); r.code != 2 || !strings.Contains(r.stderr, "already exists; pass --force") {
		t.Errorf("second save: %d %s", r.code, r.stderr)
	}
	if r := perch(t, vars, "layout", "apply", "one"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := perch(t, vars, "layout", "apply", "kitchen"); r.code != 0 {
		t.Fatalf("apply kitchen: %s", r.stderr)
	}
	if got := currentLayout(t); got != odd {
		t.Errorf("round trip: %q, want %q", got, odd)
	}
}

// parseArgs parses args as a command of perch's with the global flags,
// --dry-run and --json (booleans) and --for (a duration) would: through
// the same normalize, cobra and flag errors. It returns the positional
// arguments, the flags' values and the error the command line would map.
type parsed struct {
	pos         []string
	config      string
	dry, asJSON bool
	keep        time.Duration
}

func parseArgs(args []string) (parsed, error) {
	var p parsed
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	root := newRoot(e)
	t := &cobra.Command{Use: "t", Args: cobra.ArbitraryArgs, RunE: func(_ *cobra.Command, args []string) error {
		p.pos = args
		return nil
	}}
	t.Flags().BoolVar(&p.dry, "dry-run", false, "")
	t.Flags().BoolVar(&p.asJSON, "json", false, "")
	t.Flags().DurationVar(&p.keep, "for", 0, "")
	root.AddCommand(t)
	args, err := normalize(root, append([]string{"t"}, args...))
	if err == nil {
		root.SetArgs(args)
		err = root.Execute()
	}
	p.config = e.config
	return p, err
}

func TestParseInterspersedFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--dry-run", "desk", "--json"},
		{"desk", "--json", "--dry-run"},
		{"--json=true", "--dry-run", "desk"},
		{"-json", "-dry-run", "desk"},
	} {
		p, err := parseArgs(args)
		if err != nil || len(p.pos) != 1 || p.pos[0] != "desk" || !p.dry || !p.asJSON {
			t.Errorf("%q: pos %q dry %v json %v err %v", args, p.pos, p.dry, p.asJSON, err)
		}
	}
	p, err := parseArgs([]string{"srv", "--config", "c.toml", "--", "ls", "--config"})
	if err != nil || strings.Join(p.pos, " ") != "srv ls --config" || p.config != "c.toml" {
		t.Errorf("with --: %q %q %v", p.pos, p.config, err)
	}
	if _, err := parseArgs([]string{"--config"}); err == nil {
		t.Error("flag without value accepted")
	}
	if _, err := parseArgs([]string{"--nope"}); err == nil || err.Error() != "unknown flag --nope" {
		t.Errorf("unknown flag: %v", err)
	}
}

func TestGlobalFlagsBeforeCommand(t *testing.T) {
	cfg := writeConfig(t, twoScreens)
	r := perch(t, nil, "--config", cfg, "check")
	if r.code != 0 || !strings.Contains(r.stdout, cfg+": ok") {
		t.Errorf("--config before check: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = perch(t, nil, "--config="+cfg, "layout", "apply", "--display", ":4711", "desk")
	if r.code != 1 || !strings.Contains(r.stderr, "connect to X display :4711") {
		t.Errorf("--config= before layout apply: %d %s", r.code, r.stderr)
	}
	r = perch(t, nil, "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "no command given") {
		t.Errorf("flags alone: %d %s", r.code, r.stderr)
	}
}

// upRun is a `perch up` that upInProcess runs.
type upRun struct {
	sock string      // its control socket
	logs *syncBuffer // its output and log
}

// upInProcess runs `perch up ARGS --socket SOCK` in this process, with the
// environment vars, until the test ends: then it is stopped (as by SIGTERM)
// and must end within 30 s. Its log is shown when the test failed.
func upInProcess(t *testing.T, vars map[string]string, args ...string) *upRun {
	t.Helper()
	r := &upRun{sock: filepath.Join(t.TempDir(), "control.sock"), logs: &syncBuffer{}}
	e := &env{stdin: strings.NewReader(""), stdout: r.logs, stderr: r.logs, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- e.run(ctx, append(append([]string{"up"}, args...), "--socket", r.sock)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("perch up %q did not stop within 30s", args)
		}
		if t.Failed() {
			t.Logf("perch up %q:\n%s", args, r.logs.String())
		}
	})
	return r
}
