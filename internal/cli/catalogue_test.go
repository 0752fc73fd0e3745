package cli

// The catalogue of the command line's errors (issue 6): bad usage, bad
// configuration files, refused layouts, no agent, and what a running agent
// refuses. Each case asserts the exit code (2 bad input, 1 a fault), the
// message on stderr (with its file, line, key, output or socket), and that
// nothing was applied or lost: the X screen's RandR state read back is the
// same, every configuration file is byte for byte the same, and a running
// agent's state (profile, mode, since) is the same.
// TestCatalogueCoversEveryMessage fails when a usage message of the CLI or
// a refusal of the layout planner has no case here.

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// catalogueConfig has profiles that pass the configuration check and are
// refused by the layout planner on the dummy server, one per refusal.
const catalogueConfig = twoScreens + `
[profile.self]
[[profile.self.output]]
name = "DUMMY0"
right-of = "DUMMY0"

[profile.ghost]
[[profile.ghost.output]]
name = "HDMI1"

[profile.unplugged]
[[profile.unplugged.output]]
name = "DUMMY0"
mode = "1024x768@60"
[[profile.unplugged.output]]
name = "DUMMY9"
mode = "1024x768"
right-of = "DUMMY0"

[profile.huge]
[[profile.huge.output]]
name = "DUMMY0"
mode = "20000x1000"
[[profile.huge.output]]
name = "DUMMY1"
mode = "20000x1000"
right-of = "DUMMY0"

[profile.loop]
[[profile.loop.output]]
name = "DUMMY0"
below = "DUMMY1"
[[profile.loop.output]]
name = "DUMMY1"
above = "DUMMY0"

[profile.nomodes]
[[profile.nomodes.output]]
name = "DUMMY9"
force = true

[profile.tiny]
[[profile.tiny.output]]
name = "DUMMY0"
mode = "2x2"

[profile.hooked]
before = ["echo no such thing; exit 3"]
[[profile.hooked.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
`

// badConfigs are broken files: each kind of bad syntax, key, type, value,
// reference and duplicate. want is the message after "perch: ", with @ for
// the file's path.
var badConfigs = []struct {
	name, text, want string
}{
	{"syntax", "default = \"desk\"\n[profile.desk\n", "@:2: expected '.' or ']' to end table name, but got '\\n' instead"},
	{"unknown key", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\nrightof = \"DUMMY1\"\n",
		`@:4: profile.desk.output.rightof: unknown key "rightof" (did you mean "right-of"?)`},
	{"wrong type", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\nprimary = 1\n",
		"@:4: profile.desk.output.primary: wrong type: want a boolean, not an integer"},
	{"bad value", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\nrotate = \"sideways\"\n",
		`@:4: profile.desk.output.rotate: unknown rotation "sideways" (want normal, left, right or inverted)`},
	{"bad reference", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\nleft-of = \"DUMMY1\"\n",
		"@:4: profile.desk.output.left-of: output DUMMY1 is not in this profile, so it will be off; place DUMMY0 relative to an output the profile lists (DUMMY0)"},
	{"unknown server", "[profile.desk]\nserver = \"far\"\n[[profile.desk.output]]\nname = \"DUMMY0\"\n",
		"@:2: profile.desk.server: no [server.far] table (servers: none)"},
	{"duplicate output", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\n[[profile.desk.output]]\nname = \"DUMMY0\"\n",
		"@:5: profile.desk.output.name: output DUMMY0 is listed twice"},
	{"duplicate key", "[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\nname = \"DUMMY1\"\n",
		"@:4: profile.desk.output.name: Key 'profile.desk.output.name' has already been defined."},
	{"default names no profile", "default = \"sofa\"\n[profile.desk]\n[[profile.desk.output]]\nname = \"DUMMY0\"\n",
		`@:1: default: no profile "sofa" (profiles: desk, or "auto")`},
}

type cliCase struct {
	name string
	args []string          // @ is the catalogue config, @SOCK a socket path, @DIR a temp dir
	vars map[string]string // nil: DISPLAY only
	code int
	want string // stderr after "perch: " (exact; with @ placeholders); "~" prefix: contains
}

// screenState is the whole RandR state as perch reads it.
func screenState(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(screenView(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files reads every regular file under dir.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			m[p] = fi.Mode().String() + " " + string(b)
		} else if err == nil && !fi.IsDir() {
			m[p] = fi.Mode().String()
		}
		return nil
	})
	return m
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// cliCatalogue is filled by the tests below and read by the meta-check.
var cliCatalogue []cliCase

func usageCases() []cliCase {
	return []cliCase{
		{"no command", nil, nil, 2, "no command given"},
		{"global flags alone", []string{"--config", "@"}, nil, 2, "no command given"},
		{"unknown command", []string{"frobnicate"}, nil, 2, "unknown command \"frobnicate\"; run `perch help`"},
		{"misspelt command", []string{"stauts"}, nil, 2, "unknown command \"stauts\" (did you mean \"status\"?); run `perch help`"},
		{"one-dash long flag before the command", []string{"-config=@", "chek"}, nil, 2, "unknown command \"chek\" (did you mean \"check\"?); run `perch help`"},
		{"layout without subcommand", []string{"layout"}, nil, 2, "layout needs a subcommand: apply or save"},
		{"unknown layout subcommand", []string{"layout", "show", "desk"}, nil, 2, `unknown layout subcommand "show" (want apply or save)`},
		{"unknown flag", []string{"outputs", "--jsn"}, nil, 2, "unknown flag --jsn"},
		{"flag without value", []string{"layout", "apply", "desk", "--config"}, nil, 2, "flag --config needs a value"},
		{"flag whose value is --", []string{"exec", "quiet", "--config", "--", "xterm"}, nil, 2, "flag --config needs a value"},
		{"bad boolean", []string{"outputs", "--json=maybe"}, nil, 2, `invalid boolean value "maybe" for -json: parse error`},
		{"outputs with an argument", []string{"outputs", "DUMMY0"}, nil, 2, "outputs takes no arguments"},
		{"check with an argument", []string{"check", "desk", "--config", "@"}, nil, 2, "check takes no arguments"},
		{"layout apply without profile", []string{"layout", "apply", "--config", "@"}, nil, 2, "layout apply needs one PROFILE"},
		{"layout apply with two profiles", []string{"layout", "apply", "desk", "one", "--config", "@"}, nil, 2, "layout apply needs one PROFILE"},
		{"layout save without name", []string{"layout", "save", "--config", "@"}, nil, 2, "layout save needs one NAME"},
		{"resolve without target", []string{"resolve", "--config", "@"}, nil, 2, "resolve needs one TARGET: a server name, or a host as ssh takes it"},
		{"up with two profiles", []string{"up", "desk", "one", "--config", "@", "--socket", "@SOCK"}, nil, 2, "up takes at most one PROFILE (or auto)"},
		{"up with a bad log format", []string{"up", "desk", "--log-format", "xml", "--config", "@", "--socket", "@SOCK"}, nil, 2, `--log-format "xml": want text or json`},
		{"up without profile or default", []string{"up", "--config", "@DIR/nodefault.toml", "--socket", "@SOCK"}, nil, 2,
			`up needs a PROFILE or auto (or default = "NAME" in @DIR/nodefault.toml)`},
		{"doctor without profile or default", []string{"doctor", "--config", "@DIR/nodefault.toml"}, nil, 2,
			`doctor needs a PROFILE (or default = "NAME" in @DIR/nodefault.toml)`},
		{"doctor with two profiles", []string{"doctor", "desk", "one", "--config", "@"}, nil, 2, "doctor takes at most 1 argument(s)"},
		{"exec without command", []string{"exec", "srv", "--config", "@"}, nil, 2, "exec needs SERVER -- COMMAND [ARG...]"},
		{"exec with a bad log format", []string{"exec", "srv", "--log-format", "xml", "--config", "@", "--", "true"}, nil, 2, `--log-format "xml": want text or json`},
		{"exec on an unknown server", []string{"exec", "srv", "--config", "@", "--", "true"}, nil, 2, `@: no server "srv" (servers: none)`},
		{"status with an argument", []string{"status", "desk", "--socket", "@SOCK"}, nil, 2, "status takes at most 0 argument(s)"},
		{"switch without profile", []string{"switch", "--socket", "@SOCK"}, nil, 2, "switch needs a PROFILE or auto"},
		{"switch with two profiles", []string{"switch", "desk", "one", "--socket", "@SOCK"}, nil, 2, "switch takes at most 1 argument(s)"},
		{"reconnect with two sessions", []string{"reconnect", "a", "b", "--socket", "@SOCK"}, nil, 2, "reconnect takes at most 1 argument(s)"},
		{"take a non-display", []string{"take", ":10", "xterm", "--socket", "@SOCK"}, nil, 2, `take: "xterm" is not a display session (such as :10)`},
		{"reload with an argument", []string{"reload", "now", "--socket", "@SOCK"}, nil, 2, "reload takes at most 0 argument(s)"},
		{"disconnect with an argument", []string{"disconnect", "now", "--socket", "@SOCK"}, nil, 2, "disconnect takes at most 0 argument(s)"},
		{"down with an argument", []string{"down", "now", "--socket", "@SOCK"}, nil, 2, "down takes at most 0 argument(s)"},
		{"init without --server", []string{"init", "--ssh-config", "@DIR/no_ssh_config", "--config", "@DIR/new.toml"}, nil, 2,
			"init needs --server HOST: a host of ssh_config (none), or a host name or address"},
		{"init with bad displays", []string{"init", "--server", "far", "--displays", "ten", "--config", "@DIR/new.toml"}, nil, 2,
			`--displays "ten": want auto or display numbers such as 10,11`},
		{"init over an existing file", []string{"init", "--server", "far", "--config", "@"}, nil, 2,
			"@ exists; pass --force to replace it (the old file is kept as @.bak)"},
		{"init with a profile named auto", []string{"init", "--server", "far", "--profile", "auto", "--config", "@DIR/new.toml"}, nil, 2,
			`--profile "auto": give the profile a name other than auto`},
		{"demo with an argument", []string{"demo", "now"}, nil, 2, "demo takes no arguments"},
		{"demo with a bad duration", []string{"demo", "--for", "soon"}, nil, 2, `invalid value "soon" for flag -for: parse error`},
		{"demo with a bad log format", []string{"demo", "--log-format", "xml", "--for", "1s"}, nil, 2, `--log-format "xml": want text or json`},
	}
}

func configCases() []cliCase {
	return []cliCase{
		{"missing config", []string{"layout", "apply", "desk", "--config", "@DIR/none.toml"}, nil, 2,
			"no configuration file: @DIR/none.toml does not exist; copy assets/config.example.toml there, or run `perch layout save NAME` to start one from the current layout: invalid configuration"},
		{"config is a directory", []string{"check", "--config", "@DIR"}, nil, 1, "read configuration: read @DIR: is a directory"},
		{"unknown profile", []string{"layout", "apply", "attic", "--config", "@"}, nil, 2,
			`@: no profile "attic" (profiles: desk, one, rotated, self, ghost, unplugged, huge, loop, nomodes, tiny, hooked)`},
		{"up with an unknown profile", []string{"up", "attic", "--config", "@", "--socket", "@SOCK"}, nil, 2,
			`@: no profile "attic" (profiles: desk, one, rotated, self, ghost, unplugged, huge, loop, nomodes, tiny, hooked)`},
	}
}

func layoutCases() []cliCase {
	wayland := map[string]string{"DISPLAY": bed.Name, "WAYLAND_DISPLAY": "wayland-0"}
	const waylandMsg = "this is a Wayland session (WAYLAND_DISPLAY=wayland-0): RandR cannot arrange the monitors of a Wayland session, " +
		"and this compositor offers neither wlr-output-management (wlroots) nor GNOME's DisplayConfig; " +
		"arrange them in the compositor (its display settings), and give the profile no outputs to run only its server and sessions"
	return []cliCase{
		{"rotation refused", []string{"layout", "apply", "rotated", "--config", "@"}, nil, 2,
			"profile rotated (@:21): output DUMMY1: rotation left is not supported by its CRTC (it supports: normal)"},
		{"placed relative to itself", []string{"layout", "apply", "self", "--config", "@"}, nil, 2,
			"profile self (@:31): output DUMMY0: is placed right-of itself"},
		{"unknown output", []string{"layout", "apply", "ghost", "--dry-run", "--config", "@"}, nil, 2,
			"profile ghost (@:36): output HDMI1: no such output (this screen has DUMMY0, DUMMY1, DUMMY2, DUMMY3, DUMMY4, DUMMY5, DUMMY6, DUMMY7, DUMMY8, DUMMY9, DUMMY10, DUMMY11, DUMMY12, DUMMY13, DUMMY14, DUMMY15)"},
		{"disconnected output", []string{"layout", "apply", "unplugged", "--config", "@"}, nil, 2,
			"profile unplugged (@:40): output DUMMY9: is disconnected; set force = true to use it anyway"},
		{"too large", []string{"layout", "apply", "huge", "--config", "@"}, nil, 2,
			"profile huge (@:49): the layout needs a 40000x1000 screen but this X server allows at most 32767x32767; raise Xorg's Virtual size in xorg.conf (Section \"Screen\", SubSection \"Display\", Virtual W H) to allow more"},
		{"placement loop", []string{"layout", "apply", "loop", "--config", "@"}, nil, 2,
			"profile loop (@:58): placement loop: DUMMY0, DUMMY1 are placed relative to each other and none has a fixed position"},
		{"no modes to prefer", []string{"layout", "apply", "nomodes", "--config", "@"}, nil, 2,
			`profile nomodes (@:66): output DUMMY9: advertises no modes, so it has no preferred one; give mode = "WxH"`},
		{"mode CVT cannot make", []string{"layout", "apply", "tiny", "--config", "@"}, nil, 2,
			"~profile tiny (@:71): output DUMMY0: cannot make mode 2x2: cvt: "},
		{"up with a refused layout", []string{"up", "rotated", "--config", "@", "--socket", "@SOCK"}, nil, 2,
			"profile rotated (@:21): output DUMMY1: rotation left is not supported by its CRTC (it supports: normal)"},
		{"up auto with no match", []string{"up", "auto", "--config", "@DIR/nomatch.toml", "--socket", "@SOCK"}, nil, 2,
			"~auto: no profile's match list is satisfied by the connected outputs (DUMMY0, DUMMY1, DUMMY2"},
		{"up with a failing before hook", []string{"up", "hooked", "--config", "@", "--socket", "@SOCK"}, nil, 1,
			`profile hooked: the switch stopped: before hook "echo no such thing; exit 3" failed (exit status 3): no such thing`},
		{"layout save over a profile", []string{"layout", "save", "desk", "--config", "@"}, nil, 2,
			"@:4: profile.desk: profile desk already exists; pass --force to replace it"},
		{"layout save as auto", []string{"layout", "save", "auto", "--config", "@"}, nil, 2, `@: cannot save a profile named "auto"`},
		{"layout save into a broken file", []string{"layout", "save", "new", "--config", "@DIR/broken.toml"}, nil, 2,
			"the configuration must be valid before a profile is saved into it: @DIR/broken.toml:4: profile.x.output.rotate: unknown rotation \"up\" (want normal, left, right or inverted)"},
		{"layout save where no file can be", []string{"layout", "save", "new", "--config", "/proc/perch-catalogue/config.toml"}, nil, 1,
			"~create the configuration directory: mkdir /proc/perch-catalogue: "},
		{"no display", []string{"outputs"}, map[string]string{}, 1, "no X display: set DISPLAY or pass --display"},
		{"no display for up", []string{"up", "one", "--config", "@", "--socket", "@SOCK"}, map[string]string{}, 1, "no X display: set DISPLAY or pass --display"},
		{"dead display", []string{"layout", "apply", "one", "--config", "@", "--display", ":4711"}, map[string]string{}, 1, "~connect to X display :4711: "},
		{"layout apply under Wayland", []string{"layout", "apply", "one", "--config", "@"}, wayland, 2, "layout apply: " + waylandMsg},
		{"layout apply --dry-run under Wayland", []string{"layout", "apply", "one", "--dry-run", "--config", "@"}, wayland, 2, "layout apply: " + waylandMsg},
		{"layout save under Wayland", []string{"layout", "save", "new", "--config", "@"}, wayland, 2, "layout save: " + waylandMsg},
		{"up under Wayland", []string{"up", "one", "--config", "@", "--socket", "@SOCK"}, wayland, 2, "profile one (@:15): " + waylandMsg},
		{"up on a file that is not a socket", []string{"up", "one", "--config", "@", "--socket", "@DIR/notes.txt"}, nil, 1,
			"control socket: @DIR/notes.txt exists and is not a socket; pass --socket with another path"},
	}
}

func noAgentCases() []cliCase {
	noAgent := "no perch agent is running (no socket at @SOCK; start one with `perch up`)"
	return []cliCase{
		{"status, no agent", []string{"status", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"switch, no agent", []string{"switch", "one", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"reconnect, no agent", []string{"reconnect", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"take, no agent", []string{"take", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"reload, no agent", []string{"reload", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"disconnect, no agent", []string{"disconnect", "--socket", "@SOCK"}, nil, 1, noAgent},
		{"down, no agent", []string{"down", "--socket", "@SOCK"}, nil, 1, noAgent},
	}
}

// catalogueBed is what the cases run against: the catalogue config, a temp
// dir with the other files the cases name, and the screen set to "one".
type catalogueBed struct {
	cfg, dir, sock string
}

func newCatalogueBed(t *testing.T) *catalogueBed {
	t.Helper()
	b := &catalogueBed{dir: t.TempDir()}
	b.cfg = filepath.Join(b.dir, "config.toml")
	b.sock = filepath.Join(b.dir, "run", "control.sock")
	for name, text := range map[string]string{
		"config.toml":    catalogueConfig,
		"nodefault.toml": "[profile.one]\n[[profile.one.output]]\nname = \"DUMMY0\"\n",
		"nomatch.toml":   "[profile.far]\nmatch = [\"DUMMY15\"]\n[[profile.far.output]]\nname = \"DUMMY15\"\n",
		"broken.toml":    "[profile.x]\n[[profile.x.output]]\nname = \"DUMMY0\"\nrotate = \"up\"\n",
		"notes.txt":      "keep me\n",
	} {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func (b *catalogueBed) expand(s string) string {
	s = strings.ReplaceAll(s, "@SOCK", b.sock)
	s = strings.ReplaceAll(s, "@DIR", b.dir)
	return strings.ReplaceAll(s, "@", b.cfg)
}

// runCase runs one case and checks code, message, screen and files.
func (b *catalogueBed) runCase(t *testing.T, tc cliCase, agentState func() string) {
	t.Helper()
	vars := tc.vars
	if vars == nil {
		vars = map[string]string{"DISPLAY": bed.Name}
	}
	var args []string
	for _, a := range tc.args {
		args = append(args, b.expand(a))
	}
	screen, disk := screenState(t), files(t, b.dir)
	var before string
	if agentState != nil {
		before = agentState()
	}
	r := perch(t, vars, args...)
	want := b.expand(tc.want)
	if r.code != tc.code {
		t.Errorf("exit %d, want %d (stderr %q)", r.code, tc.code, r.stderr)
	}
	if c, ok := strings.CutPrefix(want, "~"); ok {
		if !strings.Contains(r.stderr, "perch: "+c) {
			t.Errorf("stderr %q\nwant it to contain %q", r.stderr, c)
		}
	} else if got := strings.TrimPrefix(strings.TrimSuffix(r.stderr, "\n"), "perch: "); !strings.HasSuffix(r.stderr, "perch: "+want+"\n") {
		t.Errorf("stderr\n  %s\nwant\n  %s", got, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
	if got := screenState(t); got != screen {
		t.Errorf("the screen changed:\n%s\n%s", screen, got)
	}
	if got := files(t, b.dir); !sameFiles(disk, got) {
		t.Errorf("files changed:\n%v\n%v", disk, got)
	}
	if agentState != nil {
		if after := agentState(); after != before {
			t.Errorf("the agent changed:\n%s\n%s", before, after)
		}
	}
}

func TestCatalogueCLI(t *testing.T) {
	vars := needX(t)
	b := newCatalogueBed(t)
	if r := perch(t, vars, "layout", "apply", "one", "--config", b.cfg); r.code != 0 {
		t.Fatalf("apply one: %s", r.stderr)
	}
	groups := [][]cliCase{usageCases(), configCases(), layoutCases(), noAgentCases()}
	for _, bc := range badConfigs {
		groups = append(groups, []cliCase{
			{"check: " + bc.name, []string{"check", "--config", "@DIR/bad.toml"}, nil, 2, strings.ReplaceAll(bc.want, "@", "@DIR/bad.toml")},
			{"layout apply: " + bc.name, []string{"layout", "apply", "desk", "--config", "@DIR/bad.toml"}, nil, 2, strings.ReplaceAll(bc.want, "@", "@DIR/bad.toml")},
			{"up: " + bc.name, []string{"up", "desk", "--config", "@DIR/bad.toml", "--socket", "@SOCK"}, nil, 2, strings.ReplaceAll(bc.want, "@", "@DIR/bad.toml")},
			{"layout save: " + bc.name, []string{"layout", "save", "new", "--config", "@DIR/bad.toml"}, nil, 2,
				"the configuration must be valid before a profile is saved into it: " + strings.ReplaceAll(bc.want, "@", "@DIR/bad.toml")},
		})
	}
	for gi, g := range groups {
		for _, tc := range g {
			cliCatalogue = append(cliCatalogue, tc)
			t.Run(tc.name, func(t *testing.T) {
				if gi >= 4 {
					bad := strings.TrimPrefix(tc.name[strings.Index(tc.name, ": ")+2:], "")
					for _, bc := range badConfigs {
						if bc.name == bad {
							if err := os.WriteFile(filepath.Join(b.dir, "bad.toml"), []byte(bc.text), 0o600); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				b.runCase(t, tc, nil)
				if _, err := os.Lstat(b.sock); err == nil {
					t.Errorf("a socket was left at %s", b.sock)
				}
			})
		}
	}
}

// TestCatalogueAgentRefusals: what a running agent (perch up one) refuses
// through the CLI, with the agent's profile, mode and since unchanged.
func TestCatalogueAgentRefusals(t *testing.T) {
	needX(t)
	b := newCatalogueBed(t)
	var logb syncBuffer
	vars := map[string]string{"DISPLAY": bed.Name}
	e := &env{stdin: strings.NewReader(""), stdout: &logb, stderr: &logb, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- e.run(ctx, []string{"up", "one", "--config", b.cfg, "--socket", b.sock}) }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("up exited %d:\n%s", code, logb.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("up did not stop")
		}
	}()
	waitStatus(t, b.sock, "one", 10*time.Second, func(s api.Status) bool { return s.Profile == "one" })
	agentState := func() string {
		st, ok := status(t, b.sock)
		if !ok {
			t.Fatal("no status")
		}
		return fmt.Sprintf("%s %s %s %v %v", st.Profile, st.Mode, st.Since.Format(time.RFC3339Nano), st.Profiles, st.Disconnected)
	}
	rewrite := func(text string) func() {
		return func() {
			if err := os.WriteFile(b.cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		cliCase
		setup func()
	}{
		{cliCase{"switch to an unknown profile", []string{"switch", "attic", "--socket", "@SOCK"}, nil, 2,
			`@: no profile "attic" (profiles: desk, one, rotated, self, ghost, unplugged, huge, loop, nomodes, tiny, hooked)`}, nil},
		{cliCase{"switch to a refused layout", []string{"switch", "rotated", "--socket", "@SOCK"}, nil, 2,
			"profile rotated (@:21): output DUMMY1: rotation left is not supported by its CRTC (it supports: normal)"}, nil},
		{cliCase{"switch with a failing before hook", []string{"switch", "hooked", "--socket", "@SOCK"}, nil, 1,
			`profile hooked: the switch stopped: before hook "echo no such thing; exit 3" failed (exit status 3): no such thing`}, nil},
		{cliCase{"reconnect without a server", []string{"reconnect", "--socket", "@SOCK"}, nil, 2,
			"the profile has no server: nothing to reconnect"}, nil},
		{cliCase{"disconnect without a server", []string{"disconnect", "--socket", "@SOCK"}, nil, 2,
			"not connected: the profile has no server"}, nil},
		{cliCase{"take without a server", []string{"take", ":10", "--socket", "@SOCK"}, nil, 2,
			"profile one is not connected to a server: no sessions to take"}, nil},
		{cliCase{"reload a broken file", []string{"reload", "--socket", "@SOCK"}, nil, 2,
			"reload: @:3: profile.one.output.mode: wrong type: want a string, not an integer; still running profile one"},
			rewrite("[profile.one]\n[[profile.one.output]]\nmode = 1024\n")},
		{cliCase{"reload without the running profile", []string{"reload", "--socket", "@SOCK"}, nil, 2,
			"reload: profile one is no longer in @; still running it with the previous configuration"},
			rewrite(strings.ReplaceAll(catalogueConfig, "profile.one", "profile.uno"))},
		// The running profile's new definition is refused by the screen: the
		// previous configuration stays in effect (ghost is not renamed).
		{cliCase{"reload with a refused layout", []string{"reload", "--socket", "@SOCK"}, nil, 2,
			"reload: profile one (@:15): output DUMMY0: rotation left is not supported by its CRTC (it supports: normal); still running profile one with the previous configuration"},
			rewrite(strings.Replace(strings.ReplaceAll(catalogueConfig, "profile.ghost", "profile.phantom"),
				"primary = true\n\n[profile.rotated]", "primary = true\nrotate = \"left\"\n\n[profile.rotated]", 1))},
	}
	for _, tc := range cases {
		cliCatalogue = append(cliCatalogue, tc.cliCase)
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
				defer rewrite(catalogueConfig)()
			}
			b.runCase(t, tc.cliCase, agentState)
		})
	}
}

// TestCatalogueCoversEveryMessage: every usage message of the CLI and
// every refusal of the layout planner has a case above. It runs after the
// catalogue tests (same file, declared last).
func TestCatalogueCoversEveryMessage(t *testing.T) {
	if len(cliCatalogue) == 0 {
		if testbed.InCI() {
			t.Fatal("the catalogue did not run, and CI=true")
		}
		t.Skip("!!! SKIPPED: the catalogue did not run (no X server, or -run chose this test alone)")
	}
	templates := templatesOf(t, ".", "usagef") // usage errors: exit 2
	templates = append(templates, templatesOf(t, ".", "oneArg")...)
	templates = append(templates, templatesOf(t, "../../xrandr/plan.go", "refuse")...)
	// Refusals a configuration that passed `perch check` cannot reach on
	// this server: each is in xrandr's TestPlanRefusals.
	exempt := map[string]string{
		"the layout lists no outputs: at least one must stay on": "a profile without outputs never reaches the planner (TestLayoutApplyWithoutOutputs)",
		"listed twice":                           "config refuses an output listed twice",
		"more than one output is marked primary": "config refuses two primaries",
		"no free CRTC: the layout turns on %d outputs and this output can use only %d CRTCs, all taken by the others": "the dummy server has a CRTC per output",
		"its CRTC 0x%x is not on this screen":                            "a server inconsistency",
		"its mode 0x%x is unknown to the screen":                         "a server inconsistency",
		"is placed %s %s, which this layout turns off":                   "config refuses references to outputs the profile does not list",
		"is placed %s %s, which is no output of this screen (it has %s)": "config refuses references to outputs the profile does not list",
	}
	var wants []string
	for _, tc := range cliCatalogue {
		wants = append(wants, strings.TrimPrefix(tc.want, "~"))
	}
	for _, tpl := range templates {
		if _, ok := exempt[tpl]; ok {
			continue
		}
		re := templateRe(tpl)
		found := false
		for _, w := range wants {
			if re.MatchString(w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no catalogue case gives the message %q: add one", tpl)
		}
	}
}

// templatesOf returns the format strings passed to fn (first string
// argument) in the Go files at path (a directory or one file).
func templatesOf(t *testing.T, path, fn string) []string {
	t.Helper()
	paths := []string{path}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		paths, _ = filepath.Glob(filepath.Join(path, "*.go"))
	}
	var out []string
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := c.Fun.(*ast.Ident); !ok || id.Name != fn {
				return true
			}
			for _, a := range c.Args {
				s := literal(a)
				if s != "" {
					out = append(out, s)
					break
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("no %s calls found in %s: is the scan broken?", fn, path)
	}
	return out
}

// literal is a string literal, or a sum of them; "" otherwise.
func literal(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, _ := strconv.Unquote(e.Value)
			return s
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			if l, r := literal(e.X), literal(e.Y); l != "" && r != "" {
				return l + r
			}
		}
	}
	return ""
}

var verbRe = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

func templateRe(tpl string) *regexp.Regexp {
	parts := verbRe.Split(tpl, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(strings.Join(parts, "(?s:.*)"))
}
