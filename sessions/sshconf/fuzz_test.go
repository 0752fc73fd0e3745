package sshconf

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what sessions reads from outside: ssh_config files
// (FuzzSSHConfig, FuzzSSHConfigLine), known_hosts files (FuzzKnownHosts)
// and, in x11setup_test.go, the X11 setup request (FuzzX11Setup). Seeds are
// in testdata/fuzz/<FuzzName>.

var lineNumRe = regexp.MustCompile(`: line (\d+): `)

// FuzzSSHConfig resolves an alias through a fuzzed ~/.ssh/config-like file
// that may Include a second fuzzed file (~/.ssh/inc.conf).
func FuzzSSHConfig(f *testing.F) {
	f.Add([]byte("Host quiet\n  HostName quiet.example\n  User me\n  Port 2222\n"), []byte(""), "quiet")
	f.Add([]byte("Include inc.conf\nHost *\n  ServerAliveInterval 5\n"), []byte("Host q*\n  ProxyJump jump@bastion:22\n"), "quiet")
	home := f.TempDir()
	f.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		f.Fatal(err)
	}
	mainFile := filepath.Join(home, "main.conf")
	incFile := filepath.Join(home, ".ssh", "inc.conf")
	f.Fuzz(func(t *testing.T, mainConf, incConf []byte, alias string) {
		// Include may name any file: keep it to inc.conf (a file may include
		// itself, once per line, up to the depth limit).
		for i, conf := range [][]byte{mainConf, incConf} {
			n := 0
			for _, line := range strings.Split(string(conf), "\n") {
				key, args, err := splitConfigLine(strings.TrimSuffix(line, "\r"))
				if err != nil || !strings.EqualFold(key, "include") {
					continue
				}
				for _, a := range args {
					if strings.ContainsAny(a, "/~") {
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
		tg, err := Resolve(alias, []string{mainFile})
		if err != nil {
			msg := err.Error()
			if msg == "" {
				t.Fatal("empty error")
			}
			if _, serr := parseSpec(alias); serr != nil {
				return // the alias itself is refused first
			}
			if !strings.Contains(msg, mainFile) && !strings.Contains(msg, incFile) {
				t.Fatalf("error %q names no file", msg)
			}
			if m := lineNumRe.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				rows := max(bytes.Count(mainConf, []byte("\n")), bytes.Count(incConf, []byte("\n"))) + 1
				if n < 1 || n > rows {
					t.Fatalf("error %q names line %d; the files have at most %d", msg, n, rows)
				}
			}
			return
		}
		if tg.Port < 1 || tg.Port > 65535 {
			t.Fatalf("port %d", tg.Port)
		}
		if net.ParseIP(tg.HostName) == nil && !hostRe.MatchString(tg.HostName) {
			t.Fatalf("host name %q", tg.HostName)
		}
		if !userRe.MatchString(tg.User) && tg.User != mustLocalUser(t) {
			t.Fatalf("user %q", tg.User)
		}
		if tg.ServerAliveInterval < 0 || tg.ConnectTimeout < 0 || tg.ServerAliveCountMax < 0 {
			t.Fatalf("durations/counts: %+v", tg)
		}
		if tg.ProxyJump != "" {
			if _, err := parseJumps(tg.ProxyJump); err != nil {
				t.Fatalf("ProxyJump %q: %v", tg.ProxyJump, err)
			}
		}
		if h, p, err := net.SplitHostPort(tg.Addr()); err != nil || h != tg.HostName || p != strconv.Itoa(tg.Port) {
			t.Fatalf("Addr %q: %v", tg.Addr(), err)
		}
		for _, k := range tg.KnownHostsFiles {
			if k == "" {
				t.Fatalf("empty known_hosts file in %q", tg.KnownHostsFiles)
			}
		}
		// The same files resolve the same way.
		again, err := Resolve(alias, []string{mainFile})
		if err != nil || !reflect.DeepEqual(again, tg) {
			t.Fatalf("second Resolve = %+v, %v; first %+v", again, err, tg)
		}
	})
}

func mustLocalUser(t *testing.T) string {
	u, err := localUserName()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// quoteSSHArg writes an argument so that splitConfigLine reads it back.
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
		key, args, err := splitConfigLine(line)
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
		if strings.ContainsAny(key, " \t=") {
			t.Fatalf("keyword %q", key)
		}
		// Written back quoted, the arguments read the same.
		re := key
		for _, a := range args {
			re += " " + quoteSSHArg(a)
		}
		k2, a2, err := splitConfigLine(re)
		if err != nil || k2 != key || !reflect.DeepEqual(a2, args) {
			t.Fatalf("%q split as %q %q; %q splits as %q %q (%v)", line, key, args, re, k2, a2, err)
		}
		for _, a := range args {
			if n, err := parseSSHPort(a); err == nil && (n < 1 || n > 65535 || strings.Trim(a, "0123456789") != "") {
				t.Fatalf("port %q read as %d", a, n)
			}
			if d, err := parseSSHDuration(a); err == nil {
				if d < 0 || d > time.Duration(1<<31-1)*time.Second || d%time.Second != 0 {
					t.Fatalf("time %q read as %v", a, d)
				}
				if n, err := strconv.Atoi(a); err == nil && time.Duration(n)*time.Second != d {
					t.Fatalf("time %q read as %v, want %d s", a, d, n)
				}
			}
			hops, err := parseJumps(a)
			if err != nil {
				continue
			}
			for _, h := range hops {
				// A hop written back reads the same.
				s := h.host
				if strings.Contains(s, ":") {
					s = "[" + s + "]"
				}
				if h.user != "" {
					s = h.user + "@" + s
				}
				if h.port != 0 {
					s += ":" + strconv.Itoa(h.port)
				}
				back, err := parseSpec(s)
				if err != nil || back != h {
					t.Fatalf("hop %+v of %q written as %q reads %+v, %v", h, a, s, back, err)
				}
				if h.host == "" || h.port < 0 || h.port > 65535 || strings.ContainsAny(h.user+h.host, " \t'\"`$;&|") {
					t.Fatalf("hop %+v of %q", h, a)
				}
			}
		}
	})
}
