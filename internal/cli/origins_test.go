package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/api"
)

// TestCheckOrigins: `perch check` reads the administrator's file under
// $XDG_CONFIG_DIRS and the user's on top, and says which file each
// profile, server and top-level key came from; a system file that others
// may write is refused with its name (exit 2).
func TestCheckOrigins(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but not root: the system file must be root's")
		}
		t.Skip("!!! SKIPPING TestCheckOrigins: the system file must be root's; run as root")
	}
	dir := t.TempDir()
	sys := filepath.Join(dir, "xdg", "perch", "config.toml")
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, []byte("default = \"office\"\n[server.lab]\nssh = \"lab.example\"\n[server.shared]\nssh = \"s.example\"\n"+
		"[profile.office]\nserver = \"lab\"\ndisplays = [10]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(dir, "user.toml")
	if err := os.WriteFile(user, []byte("location = \"desk\"\n[server.lab]\nssh = \"me@lab.example\"\n[profile.home]\nserver = \"shared\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(dir, "xdg")+":"+filepath.Join(dir, "nothing-here"))
	r := perch(t, map[string]string{"PERCH_CONFIG": user}, "check")
	for _, want := range []string{
		user + ": ok (2 profiles: office, home; 2 servers)",
		"  from " + sys + ": profile office (line 6), server shared (line 4), default\n",
		"  from " + user + ": profile home (line 4), server lab (line 2), location\n",
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("perch check: exit %d, stdout lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	if err := os.Chmod(sys, 0o666); err != nil {
		t.Fatal(err)
	}
	r = perch(t, map[string]string{"PERCH_CONFIG": user}, "check")
	if want := sys + ": the system configuration is not trusted: " + sys + " is writable by others than root (mode 0666)"; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("a system file anyone may write: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
	}
}

// TestStatusOrigins: `perch status` says which files the profile and its
// server came from.
func TestStatusOrigins(t *testing.T) {
	var b strings.Builder
	printStatus(&b, api.Status{Profile: "office", ProfileFile: "/etc/xdg/perch/config.toml", ServerFile: "/home/u/.config/perch/config.toml"})
	if want := "origin    profile: /etc/xdg/perch/config.toml; server: /home/u/.config/perch/config.toml\n"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
}
