package sshconf

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzSSHConfig and FuzzSSHConfigLine are the old sessions/fuzz_test.go's
// targets (deleted in the split of issue 14), ported with their seeds
// (testdata/fuzz/<FuzzName>). Assertions that OpenSSH's semantics dropped on
// purpose are not kept: HostName and User may hold any characters but
// control characters (ssh -G accepts "HostName $(id)"), and a port may be a
// service name ("ssh") or carry a '+' (a2port).

// FuzzSSHConfig resolves an alias through a fuzzed ~/.ssh/config-like file
// that may Include a second fuzzed file (~/.ssh/inc.conf).
func FuzzSSHConfig(f *testing.F) {
	f.Add([]byte("Host quiet\n  HostName quiet.example\n  User me\n  Port 2222\n"), []byte(""), "quiet")
	f.Add([]byte("Include inc.conf\nHost *\n  ServerAliveInterval 5\n"), []byte("Host q*\n  ProxyJump jump@bastion:22\n"), "quiet")
	home := f.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		f.Fatal(err)
	}
	env := fuzzEnv() // Match exec answers from the command's text
	env.Home, env.HomeVar = home, home
	mainFile := filepath.Join(home, "main.conf")
	incFile := filepath.Join(home, ".ssh", "inc.conf")
	f.Fuzz(func(t *testing.T, mainConf, incConf []byte, alias string) {
		// Include may name any file: keep it to inc.conf (a file may include
		// itself, once per line, up to the depth limit).
		for i, conf := range [][]byte{mainConf, incConf} {
			n := 0
			for _, line := range strings.Split(string(conf), "\n") {
				key, args, err := splitLine(strings.TrimSuffix(line, "\r"))
				if err != nil || !strings.EqualFold(key, "include") {
					continue
				}
				for _, a := range args {
					if strings.ContainsAny(a, "/~$%") {
						return
					}
				}
				n += len(args)
			}
			if (i == 0 && n > 8) || (i == 1 && n > 1) {
				return
			}
		}
		if err := os.WriteFile(mainFile, mainConf, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(incFile, incConf, 0o600); err != nil {
			t.Fatal(err)
		}
		o := Options{Files: []string{mainFile}, Env: env}
		tg, err := ResolveWith(alias, o)
		if err != nil {
			msg := err.Error()
			if msg == "" {
				t.Fatal("empty error")
			}
			if _, serr := ParseSpec(alias); serr != nil {
				return // the alias itself is refused first
			}
			if !strings.Contains(msg, mainFile) && !strings.Contains(msg, incFile) {
				t.Fatalf("error %q names no file", msg)
			}
			var ce *Error
			if errors.As(err, &ce) && ce.Line != 0 {
				rows := max(bytes.Count(mainConf, []byte("\n")), bytes.Count(incConf, []byte("\n"))) + 1
				if ce.Line < 1 || ce.Line > rows {
					t.Fatalf("error %q names line %d; the files have at most %d", msg, ce.Line, rows)
				}
			}
			return
		}
		if tg.Port < 1 || tg.Port > 65535 {
			t.Fatalf("port %d", tg.Port)
		}
		if tg.HostName == "" || strings.ContainsFunc(tg.User, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Fatalf("host name %q, user %q", tg.HostName, tg.User)
		}
		if tg.ServerAliveInterval < 0 || tg.ConnectTimeout < 0 || tg.ServerAliveCountMax < 0 {
			t.Fatalf("durations/counts: %+v", tg)
		}
		for _, h := range tg.ProxyJump {
			if back, err := ParseSpec(h.String()); err != nil || back != h {
				t.Fatalf("ProxyJump hop %+v reads back as %+v, %v", h, back, err)
			}
		}
		// A name with a bracket passes ssh's valid_hostname too, and no
		// lookup or address parser takes it (ssh fails on it as well).
		if h, p, err := net.SplitHostPort(tg.Addr()); !strings.ContainsAny(tg.HostName, "[]") &&
			(err != nil || h != tg.HostName || p != strconv.Itoa(tg.Port)) {
			t.Fatalf("Addr %q: %v", tg.Addr(), err)
		}
		for _, k := range tg.KnownHostsFiles {
			if k == "" {
				t.Fatalf("empty known_hosts file in %q", tg.KnownHostsFiles)
			}
		}
		// The same files resolve the same way.
		again, err := ResolveWith(alias, o)
		if err != nil || !reflect.DeepEqual(again, tg) {
			t.Fatalf("second Resolve = %+v, %v; first %+v", again, err, tg)
		}
	})
}

// quoteSSHArg writes an argument so that splitArgs reads it back.
func quoteSSHArg(a string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(a[i])
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzSSHConfigLine fuzzes one ssh_config line: the splitter, and the
// value parsers behind Port, ServerAliveInterval and ProxyJump.
func FuzzSSHConfigLine(f *testing.F) {
	f.Add(`  IdentityFile "~/.ssh/my key" # comment`)
	f.Add(`ProxyJump=me@[2001:db8::1]:2222,bastion`)
	f.Add(`ServerAliveInterval 1h30m`)
	f.Fuzz(func(t *testing.T, line string) {
		key, args, err := splitLine(line)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if key == "" {
			if len(args) > 0 {
				t.Fatalf("no keyword but args %q", args)
			}
			return
		}
		// A keyword is one word; ssh reads a quoted one whole, and refuses
		// it as unknown when it holds a separator.
		if _, known := keywords[strings.ToLower(key)]; known && strings.ContainsAny(key, whitespace+`="`) {
			t.Fatalf("keyword %q", key)
		}
		if _, known := keywords[strings.ToLower(key)]; known {
			// Written back quoted, the arguments read the same.
			re := key
			for _, a := range args {
				re += " " + quoteSSHArg(a)
			}
			k2, a2, err := splitLine(re)
			if err != nil || k2 != key || !reflect.DeepEqual(a2, args) {
				t.Fatalf("%q split as %q %q; %q splits as %q %q (%v)", line, key, args, re, k2, a2, err)
			}
		}
		for _, a := range args {
			if n, err := parsePort(a); err == nil {
				if n < 1 || n > 65535 {
					t.Fatalf("port %q read as %d", a, n)
				}
				if d, err := strconv.Atoi(a); err == nil && d != n {
					t.Fatalf("port %q read as %d", a, n)
				}
			}
			if d, err := parseTime(a); err == nil {
				if d < 0 || d > time.Duration(1<<31-1)*time.Second || d%time.Second != 0 {
					t.Fatalf("time %q read as %v", a, d)
				}
				if n, err := strconv.Atoi(a); err == nil && time.Duration(n)*time.Second != d {
					t.Fatalf("time %q read as %v, want %d s", a, d, n)
				}
			}
			hops, err := ParseJump(a)
			if err != nil {
				continue
			}
			for _, h := range hops {
				// A hop written back reads the same.
				back, err := ParseSpec(h.String())
				if err != nil || back != h {
					t.Fatalf("hop %+v of %q written as %q reads %+v, %v", h, a, h.String(), back, err)
				}
				// ssh's own checks: valid_ruser for the user ('$' is
				// allowed there), valid_hostname for the host.
				if h.Host == "" || h.Port < 0 || h.Port > 65535 || strings.ContainsAny(h.User+h.Host, " \t") ||
					strings.ContainsAny(h.User, badUserChars) || strings.ContainsAny(h.Host, badHostChars) {
					t.Fatalf("hop %+v of %q", h, a)
				}
			}
		}
	})
}
