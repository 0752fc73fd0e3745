package sshconf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The collection under testdata/realworld: ssh_config files in the shapes
// people keep (corporate bastions, Kerberos shops, home labs, CI builders,
// macOS dotfiles, Include trees, Match exec, generated files of tools).
// Each directory is a ~/.ssh: "config" and what it includes; its first
// line "# targets: ..." names the hosts to try. Directories ending in
// "-94" use OpenSSH 9.4 keywords, which Debian 12's ssh (9.2) refuses:
// TestTag94 checks them against the documented semantics instead.

// realWorldCases reads the collection.
func realWorldCases(t *testing.T) (cases []diffCase, configs int) {
	return realWorldCasesFrom(t, filepath.Join("testdata", "realworld"))
}

// realWorldCasesFrom reads a collection laid out as testdata/realworld.
func realWorldCasesFrom(t *testing.T, root string) (cases []diffCase, configs int) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || strings.HasSuffix(d.Name(), "-94") {
			continue
		}
		files := map[string]string{}
		base := filepath.Join(root, d.Name())
		err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(base, p)
			files[rel] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(files["config"], "\n")
		targets, ok := strings.CutPrefix(first, "# targets: ")
		if !ok {
			t.Fatalf("%s/config: the first line must be \"# targets: ...\"", base)
		}
		configs++
		for _, h := range strings.Fields(targets) {
			c := diffCase{name: "realworld/" + d.Name(), files: files, host: h, ctx: true}
			if u, host, ok := strings.Cut(h, "@"); ok {
				c.user, c.host = u, host
			}
			cases = append(cases, c)
		}
	}
	return cases, configs
}

// TestRealWorldConfigs runs every host of the collection through ssh -G
// and perch: no case where ssh accepts and perch refuses beyond README's
// list (intended), none the other way, and the same options when both
// accept.
//
// go test -run TestRealWorldConfigs -v ./sessions/sshconf prints the counts.
func TestRealWorldConfigs(t *testing.T) {
	needSSH(t)
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Shell = "/bin/sh"
	cases, configs := realWorldCases(t)
	res := runDiff(t, cases, env)
	sshOnly := 0
	for _, d := range res.disagreements {
		if strings.Contains(d, "ssh accepts, perch refuses") {
			sshOnly++
		}
		t.Error(d)
	}
	t.Logf("real-world collection: %d configs, %d hosts: %d both accept (options compared), %d both refuse, %d refused by perch on purpose (README), ssh-accepts-perch-refuses = %d, other disagreements %d",
		configs, res.cases, res.bothAccept, res.bothRefuse, res.intendedRefusals, sshOnly, len(res.disagreements)-sshOnly)
	if configs < 30 || res.bothAccept < res.cases*3/4 {
		t.Errorf("%d configs, %d of %d hosts accepted by both: the collection is not what it says", configs, res.bothAccept, res.cases)
	}
}

// TestTag94: Tag and Match tagged as OpenSSH 9.4 documents them (Debian
// 12's ssh is 9.2, which refuses Tag, so this is not compared with
// ssh -G): the first Tag obtained wins, Match tagged compares it with a
// pattern list (case-sensitive), an unset Tag is "".
func TestTag94(t *testing.T) {
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "realworld", "tagged-94", "config"))
	if err != nil {
		t.Fatal(err)
	}
	extra := "Host first\n  Tag one\n  Tag two\nMatch tagged two\n  Port 2002\nMatch tagged one,!x*\n  Port 2001\n" +
		"Match tagged WORK\n  Port 3000\nMatch !tagged ?*\n  HostName untagged.example\n"
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, append(data, extra...), 0o600)
	for _, c := range []struct {
		host, user, hostname, tag string
		port                      int
	}{
		{"tagged-host", "worker", "tagged-host", "work", 22},
		{"plain", env.User, "untagged.example", "", 22},
		{"first", env.User, "first", "one", 2001},
	} {
		tg, err := ResolveSpec(Spec{Host: c.host}, Options{Files: []string{cfg}, Env: &env})
		if err != nil {
			t.Errorf("%s: %v", c.host, err)
			continue
		}
		if tg.User != c.user || tg.HostName != c.hostname || tg.Tag != c.tag || tg.Port != c.port {
			t.Errorf("%s: user %q hostname %q tag %q port %d, want %q %q %q %d", c.host, tg.User, tg.HostName, tg.Tag, tg.Port, c.user, c.hostname, c.tag, c.port)
		}
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("Host x\n  Tag\nMatch tagged\n"), 0o600)
	_, err = ResolveSpec(Spec{Host: "y"}, Options{Files: []string{bad}, Env: &env})
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 2 {
		t.Errorf("Tag without a value: %v", err)
	}
}
