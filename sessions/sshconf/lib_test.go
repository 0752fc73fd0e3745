package sshconf

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	sshc "github.com/kevinburke/ssh_config"
)

// lib runs kevinburke/ssh_config on a config file: "get" is GetStrict
// (which also checks values), "all" GetAllStrict for a keyword the library
// says may repeat, "default" Default. A refusal is "error".
func lib(how, cfg, host, key string) string {
	u := &sshc.UserSettings{}
	u.ConfigFinder(func() string { return cfg })
	var v string
	var err error
	switch how {
	case "get":
		v, err = u.GetStrict(host, key)
	case "all":
		var all []string
		if all, err = u.GetAllStrict(host, key); sshc.SupportsMultiple(key) {
			v = strings.Join(all, "\n")
		} else if len(all) > 0 {
			v = all[0]
		}
	case "default":
		v = sshc.Default(key)
	}
	if err != nil {
		return "error"
	}
	return v
}

// libCounterExamples are README's "why perch does not use
// kevinburke/ssh_config for X": for each, what ssh -G says and what the
// library says. TestLibCounterExamples fails when either changes, so the
// README stays true (and perch can take the part over once the library
// agrees).
var libCounterExamples = []struct {
	what, config, host, key, how string
	ssh, lib                     string
}{
	{"'?' in patterns", "Host f?o\n  User q1\nHost *\n  User other\n", "fo", "User", "get", "other", "q1"},
	{"quoting", "Host foo\n  User 'bob'\n", "foo", "User", "get", "bob", "'bob'"},
	{"'#' inside an argument", "Host foo\n  IdentityFile ~/.ssh/id#1\n", "foo", "IdentityFile", "get", "~/.ssh/id#1", "~/.ssh/id"},
	{"Match", "Match exec true\n  User matched\n", "foo", "User", "get", "matched", "error"},
	{"yes/no values", "Host foo\n  IdentitiesOnly true\n", "foo", "IdentitiesOnly", "get", "yes", "error"},
	{"numeric values", "Host foo\n  Port ssh\n", "foo", "Port", "get", "22", "error"},
	{"numeric values", "Host foo\n  ConnectTimeout 1m\n", "foo", "ConnectTimeout", "get", "60", "error"},
	{"repeated keywords", "Host foo\n  IdentityFile ~/a\n  IdentityFile ~/b\n", "foo", "IdentityFile", "all", "~/a\n~/b", "~/a"},
	{"defaults", "", "foo", "CheckHostIP", "default", "no", "yes"},
	{"defaults", "", "foo", "IdentityFile", "default",
		"~/.ssh/id_rsa\n~/.ssh/id_ecdsa\n~/.ssh/id_ecdsa_sk\n~/.ssh/id_ed25519\n~/.ssh/id_ed25519_sk\n~/.ssh/id_xmss\n~/.ssh/id_dsa", "~/.ssh/identity"},
	{"defaults", "", "foo", "HostKeyAlgorithms", "default", strings.Join(DefaultHostKeyAlgorithms, ","),
		"ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,ssh-rsa"},
}

// libCase writes config under a fresh ~/.ssh and runs ssh -G on it.
func libCase(t *testing.T, config, host string) (home, cfg string, ssh map[string]string) {
	home = t.TempDir()
	cfg = filepath.Join(home, ".ssh", "config")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh, err := sshG(t, home, diffCase{host: host})
	if err != nil {
		t.Fatalf("ssh -G on %q: %v", config, err)
	}
	return home, cfg, ssh
}

func TestLibCounterExamples(t *testing.T) {
	needSSH(t)
	for _, c := range libCounterExamples {
		_, cfg, ssh := libCase(t, c.config, c.host)
		got := lib(c.how, cfg, c.host, c.key)
		if w := strings.TrimSuffix(ssh[strings.ToLower(c.key)], "\n"); w != c.ssh {
			t.Errorf("%s: %q for %s: ssh -G says %s %q, README says %q", c.what, c.config, c.host, c.key, w, c.ssh)
		}
		if got != c.lib {
			t.Errorf("%s: %q for %s: kevinburke/ssh_config now says %s %q, README says %q: update README (perch may use it now)", c.what, c.config, c.host, c.key, got, c.lib)
		}
		if got == strings.TrimSuffix(ssh[strings.ToLower(c.key)], "\n") {
			t.Errorf("%s: the library agrees with ssh: not a counter-example", c.what)
		}
	}
}

// TestLibDefaults: for the keywords perch takes the default of from
// ssh_config.Default, the library, ssh -G and perch (Resolve and perch
// resolve's report) say the same for an empty configuration.
func TestLibDefaults(t *testing.T) {
	needSSH(t)
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	home, cfg, ssh := libCase(t, "", "foo")
	e := env
	e.HomeVar = home
	tg, err := ResolveSpec(Spec{Host: "foo"}, Options{Files: []string{cfg}, Env: &e})
	if err != nil {
		t.Fatal(err)
	}
	perch := perchG(tg)
	expand := func(v string) string { return strings.ReplaceAll(" "+v, " ~/", " "+env.Home+"/")[1:] }
	for _, k := range libDefaults {
		d := expand(sshc.Default(k))
		if d == "" || d != ssh[k] || perch[k] != ssh[k] {
			t.Errorf("default %s: library %q, ssh -G %q, perch %q", k, d, ssh[k], perch[k])
		}
	}
	if d := sshc.Default("StrictHostKeyChecking"); d != ssh["stricthostkeychecking"] || tg.StrictHostKeyChecking != "" {
		t.Errorf("StrictHostKeyChecking: library %q, ssh -G %q, perch %q (unset: ask)", d, ssh["stricthostkeychecking"], tg.StrictHostKeyChecking)
	}
	r, err := NewReport(tg, "ask")
	if err != nil {
		t.Fatal(err)
	}
	known := strings.Fields(expand(sshc.Default("UserKnownHostsFile") + " " + sshc.Default("GlobalKnownHostsFile")))
	if strconv.Itoa(r.Port) != sshc.Default("Port") || strconv.Itoa(r.ServerAliveCountMax) != sshc.Default("ServerAliveCountMax") ||
		strconv.Itoa(int(r.ServerAliveInterval)) != sshc.Default("ServerAliveInterval") ||
		(r.IdentitiesOnly != (sshc.Default("IdentitiesOnly") == "yes")) || !slices.Equal(r.KnownHostsFiles, known) {
		t.Errorf("perch resolve's defaults differ from ssh_config.Default:\n%s", r.Text())
	}
}

// FuzzGlob: for the patterns perch gives the library's Pattern (no '?'),
// it matches exactly as ssh's match_pattern (matchPattern) does.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"foo", "f*"}, {"a.b", "a.b"}, {"axb", "a.b"}, {"aab", "a+b"}, {"x.example.com", "*.example.com"},
		{"", "*"}, {"a(b", "a(*"}, {"a\xffb", "a*b"}, {"[x]", "[*]"}, {"f", "f**"}, {"^$", "^*$"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, pattern string) {
		if strings.ContainsRune(s, '\n') {
			return // ssh_config lines never hold one
		}
		if got, want := matchGlob(s, pattern), matchPattern(s, pattern); got != want {
			t.Fatalf("matchGlob(%q, %q) = %v, match_pattern %v", s, pattern, got, want)
		}
	})
}
