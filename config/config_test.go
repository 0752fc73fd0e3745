package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/xrandr"
)

const example = `# perch configuration
default = "desk"

[server.quiet]
ssh = "me@quiet"
keepalive = "2s"

[profile.desk]
match = ["HDMI1", "HDMI2"]
server = "quiet"
displays = [10, 11, 12, 13]
[[profile.desk.output]]
name = "HDMI1"
mode = "1920x1080"
primary = true
[[profile.desk.output]]
name = "HDMI2"
right-of = "HDMI1"
rotate = "left"
[[profile.desk.session]]
name = "mail"
command = "xpra attach :14"
[[profile.desk.forward]]
listen = "127.0.0.1:6379"
to = "localhost:6379"

# the laptop panel alone
[profile.sofa]
[[profile.sofa.output]]
name = "eDP1"
`

func TestParseExample(t *testing.T) {
	c, err := Parse("config.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if c.Default != "desk" || strings.Join(c.Order, ",") != "desk,sofa" {
		t.Errorf("default %q order %q", c.Default, c.Order)
	}
	d := c.Profiles["desk"]
	if d.Line != 8 || len(d.Outputs) != 2 || d.Outputs[1].Line != 16 || d.Outputs[1].Rotate != "left" {
		t.Errorf("desk: %+v", d)
	}
	if len(d.Displays) != 4 || d.Sessions[0].Name != "mail" || d.Forwards[0].To != "localhost:6379" {
		t.Errorf("desk sessions: %+v", d)
	}
	s := c.Servers["quiet"]
	if s.Keepalive != 2*time.Second || s.KnownHosts != "" || s.SSH != "me@quiet" {
		t.Errorf("server: %+v", s)
	}
	l := d.Layout()
	want := xrandr.OutputSpec{Name: "HDMI2", RightOf: "HDMI1", Rotate: xrandr.RotateLeft}
	if l.Outputs[1] != want || !l.Outputs[0].Primary || l.Outputs[0].Mode != "1920x1080" {
		t.Errorf("layout %+v", l)
	}
	if c.Profiles["sofa"].Line != 28 {
		t.Errorf("sofa line %d", c.Profiles["sofa"].Line)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"syntax", "default = \"desk\"\nmatch = = 1\n", "c.toml:2: "},
		{"unknown top key", "defualt = \"x\"\n", `c.toml:1: defualt: unknown key "defualt"`},
		{"unknown output key with hint", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\nrotation = \"left\"\n",
			`c.toml:4: profile.a.output.rotation: unknown key "rotation" (did you mean "rotate"?)`},
		{"wrong type", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\nprimary = \"yes\"\n",
			"c.toml:4: profile.a.output.primary: "},
		{"bad rotation", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\n\n[[profile.a.output]]\nname = \"Y\"\nrotate = \"sideways\"\n",
			`c.toml:7: profile.a.output.rotate: unknown rotation "sideways" (want normal, left, right or inverted)`},
		{"bad mode", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\nmode = \"big\"\n",
			`c.toml:4: profile.a.output.mode: mode "big": want "preferred", "WxH" or "WxH@Hz"`},
		{"bad pos", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\npos = \"left\"\n",
			`c.toml:4: profile.a.output.pos: position "left": want "X,Y"`},
		{"two placements", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\n[[profile.a.output]]\nname = \"Y\"\nright-of = \"X\"\nbelow = \"X\"\n",
			"c.toml:7: profile.a.output.below: output Y has both right-of and below; give one placement"},
		{"reference not in profile", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\nright-of = \"Z\"\n",
			"c.toml:4: profile.a.output.right-of: output Z is not in this profile, so it will be off"},
		{"no name", "[profile.a]\n[[profile.a.output]]\nmode = \"1024x768\"\n",
			"c.toml:2: profile.a.output: name is required"},
		{"twice", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\n[[profile.a.output]]\nname = \"X\"\n",
			"c.toml:5: profile.a.output.name: output X is listed twice"},
		{"two primaries", "[profile.a]\n[[profile.a.output]]\nname = \"X\"\nprimary = true\n[[profile.a.output]]\nname = \"Y\"\nprimary = true\n",
			"c.toml:7: profile.a.output.primary: more than one output of the profile is primary"},
		{"default names no profile", "default = \"desk\"\n[profile.a]\n[[profile.a.output]]\nname = \"X\"\n",
			`c.toml:1: default: no profile "desk" (profiles: a, or "auto")`},
		{"profile named auto", "[profile.auto]\n[[profile.auto.output]]\nname = \"X\"\n",
			`c.toml:1: profile.auto: "auto" is reserved`},
		{"unknown server", "[profile.a]\nserver = \"q\"\n[[profile.a.output]]\nname = \"X\"\n",
			"c.toml:2: profile.a.server: no [server.q] table (servers: none)"},
		{"sessions without server", "[profile.a]\ndisplays = [10]\n[[profile.a.output]]\nname = \"X\"\n",
			"c.toml:1: profile.a: the profile has sessions or forwards but no server"},
		{"display out of range", "[server.q]\nssh = \"h\"\n[profile.a]\nserver = \"q\"\ndisplays = [70000]\n[[profile.a.output]]\nname = \"X\"\n",
			"c.toml:5: profile.a.displays: display 70000 is out of range"},
		{"bad keepalive", "[server.q]\nssh = \"h\"\nkeepalive = \"soon\"\n",
			`c.toml:3: server.q.keepalive: "soon" is not a positive duration`},
		{"bad known_hosts", "[server.q]\nssh = \"h\"\nknown_hosts = \"yes\"\n",
			`c.toml:3: server.q.known_hosts: "yes": want "strict" or "accept-new"`},
		{"untrusted x11", "[server.q]\nssh = \"h\"\nx11 = \"untrusted\"\n",
			"c.toml:3: server.q.x11: untrusted X11 forwarding (ssh -X) is not supported yet"},
		{"server without ssh", "[server.q]\nkeepalive = \"2s\"\n", "c.toml:1: server.q: ssh is required"},
		{"hostile ssh", "[server.q]\nssh = \"h; rm -rf /\"\n", `c.toml:2: server.q.ssh: "h; rm -rf /" is not [user@]host[:port]`},
		{"bad forward", "[server.q]\nssh = \"h\"\n[profile.a]\nserver = \"q\"\n[[profile.a.output]]\nname = \"X\"\n[[profile.a.forward]]\nlisten = \"6379\"\nto = \"localhost:6379\"\n",
			`c.toml:8: profile.a.forward.listen: "6379" is not host:port`},
		{"session named like a display", "[server.q]\nssh = \"h\"\n[profile.a]\nserver = \"q\"\n[[profile.a.output]]\nname = \"X\"\n[[profile.a.session]]\nname = \":3\"\ncommand = \"x\"\n",
			`c.toml:8: profile.a.session.name: ":3": names starting with ':' are kept for displays`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.text))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.text)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrNoFile) || !strings.Contains(err.Error(), "nope.toml does not exist") {
		t.Errorf("error %v", err)
	}
}

func TestSaveProfileKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perch", "config.toml")
	p := &Profile{Name: "office", Match: []string{"DUMMY0", "abcdef0123456789"}, Outputs: []Output{
		{Name: "DUMMY0", Mode: "1024x768@60.00", Pos: "0,0", Primary: true},
		{Name: "DUMMY1", Mode: "800x600@60.32", Pos: "1024,0", Rotate: "left"},
	}}
	// Into a missing file: created.
	if err := SaveProfile(path, p, false); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Profiles["office"]
	if len(got.Outputs) != 2 || got.Outputs[1].Rotate != "left" || !got.Outputs[0].Primary || len(got.Match) != 2 {
		t.Errorf("saved profile read back as %+v", got)
	}

	// Into an existing file: comments and other profiles stay byte for byte.
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveProfile(path, p, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), example) {
		t.Errorf("the existing text changed:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	// Again: refused without force, naming the line.
	err = SaveProfile(path, p, false)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ":32: profile.office: profile office already exists; pass --force") {
		t.Errorf("second save: %v", err)
	}
	// With force: replaced, the rest intact, the sofa comment too.
	p.Outputs = p.Outputs[:1]
	if err := SaveProfile(path, &Profile{Name: "desk", Outputs: p.Outputs}, true); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	for _, keep := range []string{"# perch configuration", "# the laptop panel alone\n[profile.sofa]", "[server.quiet]", "[profile.office]"} {
		if !strings.Contains(string(b), keep) {
			t.Errorf("lost %q:\n%s", keep, b)
		}
	}
	c, err = Load(path)
	if err != nil {
		t.Fatalf("after replace: %v\n%s", err, b)
	}
	if d := c.Profiles["desk"]; len(d.Outputs) != 1 || d.Outputs[0].Name != "DUMMY0" || d.Server != "" {
		t.Errorf("desk after replace: %+v", d)
	}
	// A broken file is never written into.
	if err := os.WriteFile(path, []byte("[profile.a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveProfile(path, p, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("save into a broken file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "[profile.a\n" {
		t.Errorf("broken file changed: %q", b)
	}
}

func TestLineIndex(t *testing.T) {
	ix := indexLines(example)
	for path, want := range map[string]int{
		"default":                         2,
		"server.quiet.keepalive":          6,
		"profile.desk.output[0]":          12,
		"profile.desk.output[1]":          16,
		"profile.desk.output[1].rotate":   19,
		"profile.desk.output.rotate":      19,
		"profile.desk.session[0].command": 22,
		"profile.sofa.output[0].name":     30,
		"profile.desk.output[1].nope":     16,
	} {
		if got := ix.line(path); got != want {
			t.Errorf("line(%s) = %d, want %d", path, got, want)
		}
	}
}

// TestTypeErrorsInFileOrder: with several wrongly typed keys the error
// names the earliest in the file, every time: the decoder alone walks
// tables in random order and named any of them.
func TestTypeErrorsInFileOrder(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"servers and profiles", "[server.b]\nssh = 1\n[server.a]\nssh = 2\n[profile.z]\ndisplays = \"1\"\n[profile.y]\nserver = 3\n",
			"c.toml:2: server.b.ssh: wrong type: want a string, not an integer"},
		{"keys of one table", "[profile.p]\ntake = 1\nfollow = 2\nclient = 3\nserver = 4\nxpra_args = 5\n",
			"c.toml:2: profile.p.take: wrong type: want a string, not an integer"},
		{"the second output", "[profile.p]\n[[profile.p.output]]\nname = \"A\"\n[[profile.p.output]]\nname = \"B\"\nprimary = 1\n[profile.q]\ntake = 2\n",
			"c.toml:6: profile.p.output.primary: wrong type: want a boolean, not an integer"},
		{"an array's value", "[profile.q]\nclient = 7\n[profile.p]\ndisplays = [10, \"11\"]\n",
			"c.toml:2: profile.q.client: wrong type: want a string, not an integer"},
		{"an array's value first", "[profile.p]\ndisplays = [10, \"11\"]\n[profile.q]\nclient = 7\n",
			"c.toml:2: profile.p.displays: wrong type: want an integer, not a string"},
	} {
		seen := map[string]int{}
		for range 40 {
			_, err := Parse("c.toml", []byte(tc.text))
			if err == nil {
				t.Fatalf("%s: no error", tc.name)
			}
			seen[err.Error()]++
		}
		if len(seen) != 1 || seen[tc.want] != 40 {
			t.Errorf("%s: errors over 40 parses %v, want only %q", tc.name, seen, tc.want)
		}
	}
}
