package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSystemPaths(t *testing.T) {
	t.Setenv("XDG_CONFIG_DIRS", "/site:/etc/xdg:relative")
	want := []string{"/etc/xdg/perch/config.toml", "/site/perch/config.toml"} // least important first
	if got := SystemPaths(); !slices.Equal(got, want) {
		t.Errorf("SystemPaths = %v, want %v", got, want)
	}
	t.Setenv("XDG_CONFIG_DIRS", "")
	if got := SystemPaths(); !slices.Equal(got, []string{"/etc/xdg/perch/config.toml"}) {
		t.Errorf("SystemPaths without XDG_CONFIG_DIRS = %v", got)
	}
}

// needRoot skips (loudly; fails in CI) a test whose system files must be
// root's.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but not root: system configuration files must be root's")
		}
		t.Skip("!!! SKIPPING: system configuration files must be root's; run as root")
	}
}

// writeSystem writes a system file under dir/NAME/perch/config.toml, its
// directories 0755 and the file 0644, as a package installs them.
func writeSystem(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name, "perch", "config.toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Join(dir, name), filepath.Dir(p)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const siteText = `
[server.lab]
ssh = "old-lab.example"
`

const systemText = `# the administrator's
default = "office"
location = "lab-seat"

[server.lab]
ssh = "lab.example"

[server.shared]
ssh = "shared.example"

[profile.office]
server = "lab"
displays = [10]

[profile.kiosk]
server = "shared"
`

const userText = `location = "desk"

[server.lab]
ssh = "me@lab.example:2222"

[profile.home]
server = "shared"
displays = [11]
`

// TestSystemMerge: system files are read first, the most important of
// XDG_CONFIG_DIRS last; the user's file goes on top, winning per server,
// profile and top-level key, and may use the system's servers; each
// server and profile says where it came from; errors name their file.
func TestSystemMerge(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	site := writeSystem(t, dir, "site", siteText)
	sys := writeSystem(t, dir, "xdg", systemText)
	user := filepath.Join(dir, "user.toml")
	if err := os.WriteFile(user, []byte(userText), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadFiles([]string{site, sys}, user)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Files, []string{site, sys, user}) || c.Path != user {
		t.Errorf("files %v, path %s", c.Files, c.Path)
	}
	if c.Location != "desk" || c.Origins["location"] != user || c.Default != "office" || c.Origins["default"] != sys {
		t.Errorf("location %q from %s, default %q from %s", c.Location, c.Origins["location"], c.Default, c.Origins["default"])
	}
	for name, want := range map[string][2]string{"lab": {"me@lab.example:2222", user}, "shared": {"shared.example", sys}} {
		if s := c.Servers[name]; s == nil || s.SSH != want[0] || s.File != want[1] {
			t.Errorf("server %s: %+v, want %s from %s", name, s, want[0], want[1])
		}
	}
	if c.Servers["lab"].Line != 3 {
		t.Errorf("server lab at line %d of the user's file, want 3", c.Servers["lab"].Line)
	}
	for name, file := range map[string]string{"office": sys, "kiosk": sys, "home": user} {
		if p := c.Profiles[name]; p == nil || p.File != file {
			t.Errorf("profile %s: %+v, want from %s", name, p, file)
		}
	}
	if !slices.Equal(c.Order, []string{"office", "kiosk", "home"}) {
		t.Errorf("order %v", c.Order)
	}

	// No file of the user's: the administrator's configuration is theirs.
	c, err = loadFiles([]string{site, sys}, filepath.Join(dir, "none.toml"))
	if err != nil || c.Location != "lab-seat" || len(c.Profiles) != 2 || c.Path != filepath.Join(dir, "none.toml") {
		t.Errorf("without a user file: %v, %+v", err, c)
	}
	// Errors name their file, line and key.
	if err := os.WriteFile(user, []byte("[profile.home]\nserver = \"nowhere\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadFiles([]string{sys}, user)
	if want := user + `:2: profile.home.server: no [server.nowhere] table (servers: lab, shared)`; err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
		t.Errorf("user's error: %v, want %s", err, want)
	}
	bad := writeSystem(t, dir, "bad", "[server.x]\nssh = \"a b\"\n")
	_, err = loadFiles([]string{bad}, user)
	if want := bad + `:2: server.x.ssh: "a b" is not [user@]host[:port]`; err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
		t.Errorf("system file's error: %v, want %s", err, want)
	}
}

// TestSystemRefused: a system file that someone other than root owns or
// may change, or in a directory that someone else may write, is refused
// with the file named; nothing of it is used.
func TestSystemRefused(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	user := filepath.Join(dir, "user.toml")
	if err := os.WriteFile(user, []byte(userText), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func(s, p string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "@D", filepath.Dir(p)), "@", p)
	}
	for i, tc := range []struct {
		name  string
		spoil func(p string) error
	}{
		{"owned by another user", func(p string) error { return os.Chown(p, 65534, 65534) }},
		{"group-writable", func(p string) error { return os.Chmod(p, 0o664) }},
		{"in a directory anyone may write", func(p string) error { return os.Chmod(filepath.Dir(p), 0o777) }},
		{"a directory", func(p string) error { return errors.Join(os.Remove(p), os.Mkdir(p, 0o755)) }},
	} {
		p := writeSystem(t, dir, strings.ReplaceAll(tc.name, " ", "-"), systemText)
		if _, err := loadFiles([]string{p}, user); err != nil {
			t.Fatalf("%s: before spoiling it: %v", tc.name, err)
		}
		if err := tc.spoil(p); err != nil {
			t.Fatal(err)
		}
		c, err := loadFiles([]string{p}, user)
		want := at(loadCatalogue[3+i], p)
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v (config %v)\nwant %s", tc.name, err, c, want)
		}
	}
}
