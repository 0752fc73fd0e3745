package sshconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for the Match and token code (make fuzz runs them; seeds in
// testdata/fuzz/<FuzzName>). Match exec never runs a fuzzed command: the
// environment's Exec answers from the command's text.

func fuzzEnv() *Env {
	return &Env{Home: "/home/me", HomeVar: "/home/me", User: "me", UID: 1000, Hostname: "desk.example", Shell: "/bin/sh",
		Getenv: func(k string) string { return map[string]string{"HOME": "/home/me", "X": "x"}[k] },
		Exec:   func(cmd string) (bool, error) { return strings.Contains(cmd, "yes"), nil }}
}

// FuzzMatch evaluates "Match CRITERION ARG" and "Match !CRITERION ARG":
// both are refused, or exactly one holds.
func FuzzMatch(f *testing.F) {
	f.Add("host", "foo,!bar*", "foo", "bob")
	f.Add("exec", `"test %h = yes"`, "yes", "me")
	f.Add("originalhost", "F?O", "foo", "")
	f.Add("user", "b*", "x", "bob")
	f.Add("localuser", "me", "x", "")
	f.Add("final", "", "x", "")
	f.Fuzz(func(t *testing.T, crit, arg, host, user string) {
		if strings.ContainsAny(crit+arg, "\n\r") {
			return
		}
		var got [2]bool
		var errs [2]error
		for i, neg := range []string{"", "!"} {
			st := &state{first: map[string]*setting{}}
			if user != "" {
				st.first["user"] = &setting{key: "user", args: []string{user}}
			}
			p := &pass{env: fuzzEnv(), host: host, orig: host, st: st}
			line := neg + crit + " " + arg
			got[i], errs[i] = p.match(&setting{key: "match", file: "f", line: 3}, line)
			if errs[i] != nil && !strings.HasPrefix(errs[i].Error(), "f: line 3: ") {
				t.Fatalf("error %q does not name the line", errs[i])
			}
		}
		plain := !strings.ContainsAny(crit, " \t\"=#!") && !strings.EqualFold(crit, "all") && crit != "" &&
			!strings.ContainsAny(arg, " \t\"=#") && arg != ""
		if plain && (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("%q: %v but its negation %v", crit, errs[0], errs[1])
		}
		if plain && errs[0] == nil && got[0] == got[1] {
			t.Fatalf("Match %s %s and its negation both %v", crit, arg, got[0])
		}
	})
}

// FuzzExpand expands %-tokens and ${VAR}: text without them is unchanged,
// and a string with every '%' doubled comes back as it was.
func FuzzExpand(f *testing.F) {
	f.Add("~/.ssh/id_%h_%r", true)
	f.Add("${HOME}/kh %C %%", true)
	f.Add("50%", false)
	f.Add("${UNSET", true)
	f.Fuzz(func(t *testing.T, s string, dollar bool) {
		e := fuzzEnv()
		toks := e.connTokens("host", 22, "bob", "alias", "alias")
		out, err := e.expand(s, toks, dollar)
		if !strings.Contains(s, "%") && !(dollar && strings.Contains(s, "${")) && (err != nil || out != s) {
			t.Fatalf("%q became %q, %v", s, out, err)
		}
		if back, err := e.expand(strings.ReplaceAll(s, "%", "%%"), toks, false); err != nil || back != s {
			t.Fatalf("escaped %q came back as %q, %v", s, back, err)
		}
	})
}

// FuzzResolve resolves a target through a fuzzed configuration that may
// include a second fuzzed file: no panic, every refusal names a file of
// the case and a line inside it.
func FuzzResolve(f *testing.F) {
	f.Add("Host foo\n  User bob\nMatch host real exec \"yes\"\n  Port 2222\n", "Include inc\nHost *\n HostName real", "foo")
	f.Add("Match final host x\n User a\nMatch !localuser me\n Port 1\n", "", "x")
	f.Add("Host *\n ProxyJump a,b@c:2\n", "Match all\n IdentityFile ~/%d/${X}\n", "h")
	dir := f.TempDir() // one per worker: the inputs run one at a time
	f.Fuzz(func(t *testing.T, main, inc, target string) {
		spec, err := ParseSpec(target)
		if err != nil {
			return
		}
		cfg := filepath.Join(dir, "config")
		os.WriteFile(cfg, []byte(strings.ReplaceAll(main, "Include inc", "Include "+filepath.Join(dir, "inc"))), 0o600)
		os.WriteFile(filepath.Join(dir, "inc"), []byte(inc), 0o600)
		e := fuzzEnv()
		e.HomeVar = dir
		_, err = ResolveSpec(spec, Options{Files: []string{cfg}, Env: e})
		var ce *Error
		if err == nil || !errors.As(err, &ce) {
			return
		}
		if ce.File != cfg && ce.File != filepath.Join(dir, "inc") && !strings.HasPrefix(ce.File, dir) {
			t.Fatalf("error names %q: %v", ce.File, err)
		}
		data, _ := os.ReadFile(ce.File)
		if ce.Line < 0 || ce.Line > strings.Count(string(data), "\n")+1 {
			t.Fatalf("line %d outside %s: %v", ce.Line, ce.File, err)
		}
	})
}
