package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/perchdesk/perch/xrandr"
)

// The fuzz targets of the configuration: the file itself (Parse), the line
// indexer behind its error messages, and layout save, which writes into a
// file the user edited. Their seeds are in testdata/fuzz/<FuzzName>; plain
// `go test` runs them, `make fuzz` fuzzes each target briefly.

// checkConfigError checks an error of Parse: a *Error wrapping ErrInvalid,
// naming the file and, when it has one, a line of it.
func checkConfigError(t *testing.T, err error, file string, data []byte) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) || ce.File != file {
		t.Fatalf("error %v (%T) is not a config error for %s", err, err, file)
	}
	if ce.Msg == "" {
		t.Fatalf("error %q has no message", err)
	}
	if !strings.HasPrefix(err.Error(), file) {
		t.Fatalf("error %q does not start with the file name", err)
	}
	// The decoder may point just past the last line (an unterminated value).
	if rows := strings.Count(string(data), "\n") + 1; ce.Line < 0 || ce.Line > rows+1 {
		t.Fatalf("error %q names line %d of a %d-line file", err, ce.Line, rows)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("default = \"auto\"\n[profile.a]\n[[profile.a.output]]\nname = \"X\"\npos = \"1,2\"\n"))
	f.Add([]byte("[profile.a]\nmatch = [\n  \"X\",\n]\n[[profile.a.output]]\nname = '''\nX'''\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("f.toml", b)
		if err != nil {
			checkConfigError(t, err, "f.toml", b)
			return
		}
		rows := strings.Count(string(b), "\n") + 1
		if len(c.Order) != len(c.Profiles) {
			t.Fatalf("order %q for %d profiles", c.Order, len(c.Profiles))
		}
		if c.Default != "" && c.Default != Auto && c.Profiles[c.Default] == nil {
			t.Fatalf("default %q is not a profile", c.Default)
		}
		for _, name := range c.Order {
			p := c.Profiles[name]
			if p == nil || p.Name != name {
				t.Fatalf("profile %q in the order is %+v", name, p)
			}
			if p.Line < 1 || p.Line > rows {
				t.Fatalf("profile %s at line %d of %d", name, p.Line, rows)
			}
			for _, o := range p.Outputs {
				if o.Line < 1 || o.Line > rows {
					t.Fatalf("output %s of %s at line %d of %d", o.Name, name, o.Line, rows)
				}
			}
			if p.Server != "" && c.Servers[p.Server] == nil {
				t.Fatalf("profile %s names the unknown server %q", name, p.Server)
			}
			if l := p.Layout(); len(l.Outputs) != len(p.Outputs) {
				t.Fatalf("layout of %s has %d outputs, want %d", name, len(l.Outputs), len(p.Outputs))
			}
			// A valid profile survives a save and reload: its layout part
			// comes back the same.
			r := RenderProfile(p)
			back, err := Parse("g.toml", []byte(r))
			if err != nil {
				t.Fatalf("rendered profile %s does not parse: %v\n%s", name, err, r)
			}
			checkSameLayout(t, back.Profiles[name], p)
		}
		for name, s := range c.Servers {
			if s.Name != name || s.SSH == "" || s.Keepalive < 0 || (s.KnownHosts != "" && s.KnownHosts != "strict" && s.KnownHosts != "accept-new") {
				t.Fatalf("server %s accepted as %+v", name, s)
			}
		}
	})
}

// checkSameLayout compares the layout part of two profiles (what
// RenderProfile writes), ignoring line numbers.
func checkSameLayout(t *testing.T, got, want *Profile) {
	t.Helper()
	if got == nil {
		t.Fatalf("profile %s is missing", want.Name)
	}
	strip := func(p *Profile) ([]Output, []string) {
		outs := make([]Output, len(p.Outputs))
		for i, o := range p.Outputs {
			o.Line = 0
			outs[i] = o
		}
		return outs, p.Match
	}
	go1, gm := strip(got)
	wo, wm := strip(want)
	if !reflect.DeepEqual(go1, wo) || len(gm) != len(wm) || (len(wm) > 0 && !reflect.DeepEqual(gm, wm)) {
		t.Fatalf("profile %s came back as\n%+v %q\nwant\n%+v %q", want.Name, go1, gm, wo, wm)
	}
}

func FuzzIndexLines(f *testing.F) {
	f.Add(example)
	f.Add("[a]\nb = \"\"\"\n[c]\n\"\"\"\nd = [\n 1, # ]\n 2]\n[[e.f]]\n[[e.f]]\n'g.h' . i = 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		ix := indexLines(text)
		if want := strings.Count(text, "\n") + 1; ix.total != want {
			t.Fatalf("total = %d, want %d", ix.total, want)
		}
		rows := strings.Split(text, "\n")
		for k, l := range ix.lines {
			if l < 1 || l > ix.total {
				t.Fatalf("line(%q) = %d, out of 1..%d", k, l, ix.total)
			}
			if r := strings.TrimSpace(rows[l-1]); r == "" || r[0] == '#' {
				t.Fatalf("line(%q) = %d, a blank or comment line %q", k, l, rows[l-1])
			}
		}
		last := 0
		for _, h := range ix.headers {
			if h.line <= last {
				t.Fatalf("headers out of order: %+v", ix.headers)
			}
			last = h.line
			if r := strings.TrimSpace(rows[h.line-1]); !strings.HasPrefix(r, "[") {
				t.Fatalf("header %q at line %d, which is %q", h.path, h.line, rows[h.line-1])
			}
		}
		// Every key of a file the decoder accepts has a line, its own or
		// its table's: errors found after decoding point into the file.
		var v map[string]any
		md, err := toml.Decode(text, &v)
		if err != nil {
			return
		}
		for _, k := range md.Keys() {
			if slices.Contains(k, "") {
				continue // [""] is a table perch never looks up
			}
			path := strings.Join(k, ".")
			if l := ix.line(path); l < 1 {
				t.Fatalf("key %q has no line", path)
			}
		}
	})
}

// saveProfile is the profile FuzzSaveProfile saves.
func saveProfile(name string) *Profile {
	return &Profile{Name: name, Match: []string{"HDMI1", "0123456789abcdef"}, Outputs: []Output{
		{Name: "HDMI1", Mode: "1920x1080@60.00", Pos: "0,0", Primary: true},
		{Name: "HDMI2", Mode: "1920x1080@60.00", Pos: "1920,0", Rotate: "left", Force: true},
	}}
}

func FuzzSaveProfile(f *testing.F) {
	f.Add([]byte(example), "new", false)
	f.Add([]byte(example), "desk", true)
	f.Add([]byte(example), "desk", false)
	f.Add([]byte(""), "a b", false)
	f.Fuzz(func(t *testing.T, old []byte, name string, force bool) {
		path := filepath.Join(t.TempDir(), "config.toml")
		if len(old) > 0 {
			if err := os.WriteFile(path, old, 0o640); err != nil {
				t.Fatal(err)
			}
		}
		before, parseErr := Parse(path, old)
		if len(old) == 0 {
			parseErr = nil
		}
		p := saveProfile(name)
		err := SaveProfile(path, p, force)
		after, rerr := os.ReadFile(path)
		if err != nil {
			if errors.Is(rerr, os.ErrNotExist) && len(old) == 0 {
				rerr = nil
			}
			if rerr != nil || string(after) != string(old) {
				t.Fatalf("SaveProfile failed (%v) and changed the file", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if strings.Contains(err.Error(), "a bug in perch") {
				t.Fatalf("SaveProfile wrote a file it cannot read: %v", err)
			}
			if parseErr != nil || name == "" || name == Auto || !utf8.ValidString(name) {
				return
			}
			if force && strings.Contains(err.Error(), "edit it by hand") && before.Profiles[name] != nil &&
				!strings.Contains(string(old), "[profile."+name+"]") {
				return // defined with dotted keys or an inline table
			}
			if before == nil || before.Profiles[name] == nil || force {
				t.Fatalf("SaveProfile(%q, force %v) into a valid file: %v", name, force, err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != path || ce.Line < 1 || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("refusal to overwrite %q is %v", name, err)
			}
			return
		}
		if parseErr != nil {
			t.Fatalf("SaveProfile saved into a file that does not parse (%v)", parseErr)
		}
		if fi, err := os.Stat(path); err != nil || (len(old) > 0 && fi.Mode().Perm() != 0o640) {
			t.Fatalf("file mode after save: %v %v", fi.Mode(), err)
		}
		c, err := Parse(path, after)
		if err != nil {
			t.Fatalf("saved file does not parse: %v\n%s", err, after)
		}
		checkSameLayout(t, c.Profiles[name], p)
		existed := before != nil && before.Profiles[name] != nil
		if !existed {
			// A new profile is appended: the file's bytes are kept as they were.
			keep := strings.TrimRight(string(old), "\n")
			if !strings.HasPrefix(string(after), keep) || (keep != "" && !strings.HasPrefix(string(after)[len(keep):], "\n\n")) {
				t.Fatalf("the original bytes are not kept:\n%q\nbecame\n%q", old, after)
			}
		}
		if before == nil {
			return
		}
		// Everything else is as it was.
		if c.Default != before.Default || !reflect.DeepEqual(c.Servers, before.Servers) {
			t.Fatalf("default or servers changed: %q %+v, was %q %+v", c.Default, c.Servers, before.Default, before.Servers)
		}
		for _, n := range before.Order {
			if n == name {
				continue
			}
			got, want := c.Profiles[n], before.Profiles[n]
			if got == nil {
				t.Fatalf("profile %s was lost saving %s:\n%s", n, name, after)
			}
			checkSameLayout(t, got, want)
			if got.Server != want.Server || !reflect.DeepEqual(got.Sessions, want.Sessions) || !reflect.DeepEqual(got.Displays, want.Displays) ||
				!reflect.DeepEqual(got.Forwards, want.Forwards) || !reflect.DeepEqual(got.Before, want.Before) || !reflect.DeepEqual(got.After, want.After) {
				t.Fatalf("profile %s changed saving %s: %+v, was %+v", n, name, got, want)
			}
		}
		if len(c.Order) != len(before.Order)+map[bool]int{true: 0, false: 1}[existed] {
			t.Fatalf("profiles %q after saving %s into %q", c.Order, name, before.Order)
		}
	})
}

func FuzzRenderProfile(f *testing.F) {
	f.Add("desk", "HDMI1", "HDMI2", "0123456789abcdef", "1920x1080@59.94", "-10,20")
	f.Add("a.b", "DP-1", "DP-2", "x", "", "0x0")
	f.Add("tab\tname", "\"quoted\"", "back\\slash", "é", "preferred", "1,1")
	f.Fuzz(func(t *testing.T, name, out1, out2, match, mode, pos string) {
		p := &Profile{Name: name, Match: []string{match}, Outputs: []Output{
			{Name: out1, Mode: mode, Pos: pos, Primary: true},
			{Name: out2, RightOf: out1, Rotate: "right", Force: true},
		}}
		text := RenderProfile(p)
		c, err := Parse("r.toml", []byte(text))
		if err != nil {
			checkConfigError(t, err, "r.toml", []byte(text))
		}
		// Names come from the command line and the X server: any text a
		// TOML file can hold must come back (TOML holds valid UTF-8 only).
		// Each string on its own: "\xe1" and "\x8f\x80" are invalid, their
		// concatenation is valid.
		ok := name != Auto && out1 != out2 && strings.TrimSpace(match) != "" && out1 != "" && out2 != "" &&
			!slices.ContainsFunc([]string{name, out1, out2, match, mode, pos}, func(s string) bool { return !utf8.ValidString(s) })
		if err != nil {
			if ok && modeOK(mode) && posOK(pos) {
				t.Fatalf("rendered profile does not parse: %v\n%s", err, text)
			}
			return
		}
		if !ok {
			// Invalid UTF-8 cannot round-trip (SaveProfile refuses it).
			if name != Auto && out1 != out2 && out1 != "" && out2 != "" && strings.TrimSpace(match) != "" {
				return
			}
			t.Fatalf("a profile with bad names parsed:\n%s", text)
		}
		if len(c.Order) != 1 || c.Order[0] != name {
			t.Fatalf("profiles %q, want [%q]\n%s", c.Order, name, text)
		}
		checkSameLayout(t, c.Profiles[name], p)
	})
}

func modeOK(s string) bool {
	_, err := xrandr.ParseMode(s)
	return err == nil
}

func posOK(s string) bool {
	if s == "" {
		return true
	}
	_, err := xrandr.ParsePos(s)
	return err == nil
}
