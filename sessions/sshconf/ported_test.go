package sshconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The unit tests of the old sessions/sshconfig_test.go (deleted in the
// split of issue 14), ported to this package: the case names are the old
// ones. Cases whose behaviour the move to OpenSSH's semantics changed on
// purpose are not here (README and diff_test.go's differential suite
// cover the new behaviour).

// portedHome makes a fresh home with an empty ~/.ssh and an Env whose home
// (~, %d) and $HOME are it.
func portedHome(t *testing.T) (string, *Env) {
	t.Helper()
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	env.Home, env.HomeVar = home, home
	return home, &env
}

// writeConfFile writes content to dir/name and returns the path.
func writeConfFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// resolved is the part of a Target the old tests compared.
type resolved struct {
	Alias, HostName, User  string
	Port                   int
	IdentityFiles          []string
	IdentitiesOnly         bool
	KnownHostsFiles        []string
	StrictHostKeyChecking  string
	ServerAliveInterval    time.Duration
	ServerAliveCountMax    int
	ConnectTimeout         time.Duration
	ProxyJump, ProxyCmd    string
	IdentityFilesUnchecked bool // the default IdentityFiles depend on the home: not compared
}

func project(tg *Target, skipIDs bool) resolved {
	var hops []string
	for _, h := range tg.ProxyJump {
		hops = append(hops, h.String())
	}
	r := resolved{Alias: tg.Alias, HostName: tg.HostName, User: tg.User, Port: tg.Port,
		IdentityFiles: tg.IdentityFiles, IdentitiesOnly: tg.IdentitiesOnly, KnownHostsFiles: tg.KnownHostsFiles,
		StrictHostKeyChecking: tg.StrictHostKeyChecking, ServerAliveInterval: tg.ServerAliveInterval,
		ServerAliveCountMax: tg.ServerAliveCountMax, ConnectTimeout: tg.ConnectTimeout,
		ProxyJump: strings.Join(hops, ","), ProxyCmd: tg.ProxyCommand}
	for _, l := range []*[]string{&r.IdentityFiles, &r.KnownHostsFiles} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if skipIDs {
		r.IdentityFiles, r.IdentityFilesUnchecked = nil, true
	}
	return r
}

func TestResolveKeys(t *testing.T) {
	home, env := portedHome(t)
	me := env.User
	kh := []string{filepath.Join(home, ".ssh", "known_hosts"), filepath.Join(home, ".ssh", "known_hosts2")}
	cases := []struct {
		name   string
		target string
		files  []string // contents; each becomes a file
		want   resolved
	}{
		{
			name:   "all keys",
			target: "srv",
			files: []string{`
# a comment
Host srv
  HostName 10.0.0.5
  Port 2200
  User bob
  IdentityFile ~/.ssh/k1
  IdentityFile %d/k2-%h-%p-%r-%n-%%
  IdentitiesOnly yes
  UserKnownHostsFile ~/kh1 "/tmp/kh 2"
  StrictHostKeyChecking accept-new
  ServerAliveInterval 1m30s
  ServerAliveCountMax 5
  ConnectTimeout 7
  ProxyJump jump@j:2022,k
`},
			want: resolved{Alias: "srv", HostName: "10.0.0.5", Port: 2200, User: "bob",
				IdentityFiles:  []string{home + "/.ssh/k1", home + "/k2-10.0.0.5-2200-bob-srv-%"},
				IdentitiesOnly: true, KnownHostsFiles: []string{home + "/kh1", "/tmp/kh 2"},
				StrictHostKeyChecking: "accept-new", ServerAliveInterval: 90 * time.Second,
				ServerAliveCountMax: 5, ConnectTimeout: 7 * time.Second, ProxyJump: "jump@j:2022,k"},
		},
		{
			name:   "nothing configured",
			target: "srv",
			files:  []string{"Host other\n  Port 1\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 22, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "first value wins across Host blocks",
			target: "srv",
			files:  []string{"Host srv\n  Port 1\nHost *\n  Port 2\n  User x\nHost srv\n  User y\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 1, User: "x",
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "Host * first wins too",
			target: "srv",
			files:  []string{"Host *\n  Port 2\nHost srv\n  Port 1\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 2, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "first value wins across files, IdentityFile accumulates",
			target: "srv",
			files: []string{
				"Host srv\n  Port 10\n  IdentityFile /k/a\n",
				"Host *\n  Port 20\n  User sys\n  IdentityFile /k/b\n  IdentityFile /k/a\n",
			},
			want: resolved{Alias: "srv", HostName: "srv", Port: 10, User: "sys",
				IdentityFiles: []string{"/k/a", "/k/b"}, KnownHostsFiles: kh, ServerAliveCountMax: 3},
		},
		{
			name:   "target user and port override",
			target: "alice@srv:2222",
			files:  []string{"Host srv\n  User bob\n  Port 2200\n  IdentityFile /k/%r@%h:%p\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 2222, User: "alice",
				IdentityFiles: []string{"/k/alice@srv:2222"}, KnownHostsFiles: kh, ServerAliveCountMax: 3},
		},
		{
			name:   "negated pattern",
			target: "srv",
			files:  []string{"Host * !srv\n  Port 1\nHost s*\n  Port 3\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 3, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			// HostName is lower-cased now, as ssh does for names.
			name:   "? is exactly one character, patterns ignore case",
			target: "SRV",
			files:  []string{"Host s?v?\n  Port 1\nHost S?V\n  Port 2\n"},
			want: resolved{Alias: "SRV", HostName: "srv", Port: 2, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "keywords ignore case, = and tabs separate",
			target: "srv",
			files:  []string{"HOST=srv\n\tHOSTNAME=%h.example.com\n\tport = 2201\n\tidentitiesonly\tno # trailing comment\n"},
			want: resolved{Alias: "srv", HostName: "srv.example.com", Port: 2201, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "Match all is Host *",
			target: "srv",
			files:  []string{"Host other\n  Port 1\nMatch all\n  Port 4\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 4, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "Match final all comes after everything else",
			target: "srv",
			files: []string{
				"Match final all\n  Port 9\n  User f\nHost srv\n  Port 1\n",
				"Host *\n  User sys\n  ConnectTimeout 2\nMatch canonical\n  ConnectTimeout 8\n  ServerAliveCountMax 6\n",
			},
			want: resolved{Alias: "srv", HostName: "srv", Port: 1, User: "sys", ConnectTimeout: 2 * time.Second,
				KnownHostsFiles: kh, ServerAliveCountMax: 6, IdentityFilesUnchecked: true},
		},
		{
			name:   "none values",
			target: "srv",
			files:  []string{"Host srv\n  ProxyJump none\n  UserKnownHostsFile none\n  IdentityFile none\n  ConnectTimeout none\nHost *\n  ProxyJump j\n"},
			want:   resolved{Alias: "srv", HostName: "srv", Port: 22, User: me, ServerAliveCountMax: 3},
		},
		{
			name:   "ProxyCommand none before ProxyJump disables it",
			target: "srv",
			files:  []string{"Host srv\n  ProxyCommand none\n  ProxyJump j\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 22, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			// "StrictHostKeyChecking off" is ssh's "no" (issue 21: perch
			// records unknown keys under it and refuses changed ones).
			name:   "StrictHostKeyChecking spellings",
			target: "srv",
			files:  []string{"Host srv\n  StrictHostKeyChecking off\n  ServerAliveCountMax 0\n  ServerAliveInterval 15\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 22, User: me, StrictHostKeyChecking: "no",
				KnownHostsFiles: kh, ServerAliveInterval: 15 * time.Second, IdentityFilesUnchecked: true},
		},
		{
			name:   "IPv6",
			target: "me@[::1]:2222",
			files:  []string{"Host ::1\n  User nobody\n  Port 1\n"},
			want: resolved{Alias: "::1", HostName: "::1", Port: 2222, User: "me",
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
		{
			name:   "IgnoreUnknown",
			target: "srv",
			files:  []string{"IgnoreUnknown UseKeychain,Perch*\nHost srv\n  UseKeychain yes\n  PerchThing 1\n  Port 5\n"},
			want: resolved{Alias: "srv", HostName: "srv", Port: 5, User: me,
				KnownHostsFiles: kh, ServerAliveCountMax: 3, IdentityFilesUnchecked: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for i, c := range tc.files {
				files = append(files, writeConfFile(t, dir, "config"+strconv.Itoa(i), c))
			}
			got, err := ResolveWith(tc.target, Options{Files: files, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.ConfigFiles, files) {
				t.Errorf("ConfigFiles = %v, want %v", got.ConfigFiles, files)
			}
			if p := project(got, tc.want.IdentityFilesUnchecked); !reflect.DeepEqual(p, tc.want) {
				t.Errorf("Resolve(%q):\n got  %+v\n want %+v", tc.target, p, tc.want)
			}
		})
	}
}

func TestResolveDefaults(t *testing.T) {
	home, env := portedHome(t)
	ssh := filepath.Join(home, ".ssh")
	writeConfFile(t, ssh, "id_rsa", "x")
	writeConfFile(t, ssh, "id_ed25519", "x")
	writeConfFile(t, ssh, "known_hosts2", "")
	// ~/.ssh/config is read by default; the system file may say anything,
	// so only what the user file sets (first value wins) is checked.
	writeConfFile(t, ssh, "config", "Host srv\n  HostName 192.0.2.1\n  Port 2022\n  User u\n  ServerAliveCountMax 7\n  ConnectTimeout 9\n  StrictHostKeyChecking yes\n  IdentitiesOnly no\n  ServerAliveInterval 3\n  ProxyJump none\n")
	got, err := ResolveWith("srv", Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if got.HostName != "192.0.2.1" || got.Port != 2022 || got.User != "u" || got.ServerAliveCountMax != 7 {
		t.Errorf("~/.ssh/config not applied: %+v", got)
	}
	if got.Addr() != "192.0.2.1:2022" {
		t.Errorf("Addr = %q", got.Addr())
	}
	// The defaults that exist, in ssh's order (id_rsa before id_ed25519).
	wantIDs := []string{filepath.Join(ssh, "id_rsa"), filepath.Join(ssh, "id_ed25519")}
	if !reflect.DeepEqual(got.IdentityFiles, wantIDs) {
		t.Errorf("IdentityFiles = %v, want the existing defaults %v", got.IdentityFiles, wantIDs)
	}
	wantKH := []string{filepath.Join(ssh, "known_hosts"), filepath.Join(ssh, "known_hosts2")}
	if !reflect.DeepEqual(got.KnownHostsFiles, wantKH) {
		t.Errorf("KnownHostsFiles = %v, want %v", got.KnownHostsFiles, wantKH)
	}
}

func TestResolveInclude(t *testing.T) {
	home, env := portedHome(t)
	writeConfFile(t, home, ".ssh/conf.d/a.conf", "Port 11\nHost srv\n  User fromA\n")
	writeConfFile(t, home, ".ssh/conf.d/b.conf", "User fromB\nIdentityFile /k/b\n")
	writeConfFile(t, home, "abs.conf", "Host *\n  ConnectTimeout 4\n")
	cfg := writeConfFile(t, home, "main", `
Host srv
  IdentityFile /k/main1
  Include conf.d/*.conf
  IdentityFile /k/main2
Host other
  Include ~/abs.conf
Host *
  Include `+filepath.Join(home, "abs.conf")+` ~/missing/*.conf
`)
	got, err := ResolveWith("srv", Options{Files: []string{cfg}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	// a.conf: Port 11 (its leading lines apply inside "Host srv"), then
	// its own "Host srv" gives User fromA before b.conf's User fromB.
	if got.Port != 11 || got.User != "fromA" || got.ConnectTimeout != 4*time.Second {
		t.Errorf("got Port %d User %q ConnectTimeout %v, want 11 fromA 4s", got.Port, got.User, got.ConnectTimeout)
	}
	if want := []string{"/k/main1", "/k/b", "/k/main2"}; !reflect.DeepEqual(got.IdentityFiles, want) {
		t.Errorf("IdentityFiles = %v, want %v (file order through Include)", got.IdentityFiles, want)
	}
	// An Include in a block that does not match is not applied.
	got, err = ResolveWith("third", Options{Files: []string{cfg}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if got.Port != 22 || got.ConnectTimeout != 4*time.Second {
		t.Errorf("third: Port %d ConnectTimeout %v, want 22 4s", got.Port, got.ConnectTimeout)
	}
}

func TestResolveHostileTargets(t *testing.T) {
	_, env := portedHome(t)
	for _, target := range []string{
		"", "a b", "a\tb", "a\nb", "a;b", "a&b", "a|b", "$(id)", "`id`", "a>b", "a<b", "'a'", `"a"`,
		"-oProxyCommand=x", "-host", "me@-host", "-me@host", "host:", "host:0", "host:65536", "host:-1",
		"user@", "@host", "[::1", "[::1]x", "[1.2.3.4]:22", "[host]:22",
		"a,b", "a\x00b", "a\\b", "{a,b}", "a$b", "a(b", "me\\@host", "a\"b@host", "me;@host",
		"ssh://",
	} {
		if got, err := ResolveWith(target, Options{Files: []string{}, Env: env}); err == nil {
			t.Errorf("Resolve(%q) = %+v, want an error", target, got)
		} else if target != "" && !strings.Contains(err.Error(), strconv.Quote(target)) {
			t.Errorf("Resolve(%q): error %q does not quote the target", target, err)
		}
	}
	for target, want := range map[string]string{
		"h":                   "h:22",
		"me@host-1.example":   "host-1.example:22",
		"host_2:2222":         "host_2:2222",
		"[fe80::1]:22":        "[fe80::1]:22",
		"2001:db8::1":         "[2001:db8::1]:22",
		"ssh://me@srv:5":      "srv:5",
		"first.last@10.0.0.1": "10.0.0.1:22",
		// What ssh's own check (valid_hostname, valid_ruser) lets through.
		".host": ".host:22", "host.": "host.:22", "*": "*:22", "h?st": "h?st:22", "~root": "~root:22",
		"!host": "!host:22", "ho%st": "ho%st:22", "..": "..:22", "a$b@h": "h:22",
		"Domain\\me@h": "h:22", "WEB.example": "web.example:22",
		// "a:b" with b no port is a name to ssh (Host kube-proxy:* / HostName ...).
		"kube-proxy:gke_p_z_c": "[kube-proxy:gke_p_z_c]:22", "host:x": "[host:x]:22", "::zz": "[::zz]:22",
		"me@host:22:22": "[host:22:22]:22", "h:ssh": "h:22",
	} {
		got, err := ResolveWith(target, Options{Files: []string{}, Env: env})
		if err != nil {
			t.Errorf("Resolve(%q): %v", target, err)
			continue
		}
		if got.Addr() != want {
			t.Errorf("Resolve(%q).Addr() = %q, want %q", target, got.Addr(), want)
		}
	}
}

func TestResolveBadFiles(t *testing.T) {
	home, env := portedHome(t)
	writeConfFile(t, home, "inc/bad.conf", "Host *\n  Port 1\n\n  Prot 2\n")
	cases := []struct {
		name, content string
		line          int
		want          string
	}{
		{"Match all with more", "Match all user x\n", 1, `"all" cannot be combined with other Match attributes`},
		{"Match alone", "Match\n", 1, `no argument after keyword "match"`},
		{"unknown keyword", "Host srv\n  Hostnmae x\n", 2, "Bad configuration option: Hostnmae"},
		{"unknown keyword in another block", "Host other\n  Prot 22\n", 2, "Bad configuration option: Prot"},
		{"missing value", "Host srv\n  Port\n", 2, `no argument after keyword "port"`},
		{"missing value after =", "Host srv\n  User =\n", 2, `no argument after keyword "user"`},
		{"missing keyword", "Host srv\n  = x\n", 2, `no argument after keyword "x"`},
		{"bad port", "Host srv\n  Port 22x\n", 2, `bad port "22x"`},
		{"port range", "Host srv\n  Port 70000\n", 2, `bad port "70000"`},
		{"two values", "Host srv\n  HostName a b\n", 2, "hostname: extra arguments"},
		{"bad yes/no", "Host srv\n  IdentitiesOnly maybe\n", 2, `bad value "maybe"`},
		{"bad strict", "Host srv\n  StrictHostKeyChecking sometimes\n", 2, `bad value "sometimes"`},
		{"bad time", "Host srv\n  ConnectTimeout 5x\n", 2, `bad time "5x"`},
		{"bad time 2", "Host srv\n  ServerAliveInterval -5\n", 2, `bad time "-5"`},
		{"bad count", "Host srv\n  ServerAliveCountMax -1\n", 2, `bad count "-1"`},
		{"bad ProxyJump", "Host srv\n  ProxyJump j;rm\n", 2, `ProxyJump: server "j;rm": host name "j;rm" has one of`},
		{"bad ProxyJump port", "Host srv\n  ProxyJump \"me@jump:2222\"\n", 2, `bad port`},
		{"unterminated quote", "Host srv\n  IdentityFile \"/a b\n", 2, "invalid quotes"},
		{"unknown token", "Host srv\n  IdentityFile /k/%Z\n", 2, "unknown token %Z"},
		{"lone percent", "Host srv\n  UserKnownHostsFile /k/%\n", 2, "lone '%'"},
		{"bad Include", "Include " + home + "/inc/*.conf\n", 4, "Bad configuration option: Prot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := writeConfFile(t, t.TempDir(), "config", tc.content)
			_, err := ResolveWith("srv", Options{Files: []string{f}, Env: env})
			if err == nil {
				t.Fatalf("no error for %q", tc.content)
			}
			file := f
			if tc.name == "bad Include" {
				file = filepath.Join(home, "inc", "bad.conf")
			}
			var ce *Error
			prefix := file + ": line " + strconv.Itoa(tc.line) + ": "
			if !errors.As(err, &ce) || ce.File != file || ce.Line != tc.line ||
				!strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant prefix %q and %q", err, prefix, tc.want)
			}
		})
	}

	// The second file's error is reported even if the first sets everything.
	good := writeConfFile(t, home, "good", "Port 1\n")
	bad := writeConfFile(t, home, "bad", "Prot 1\n")
	if _, err := ResolveWith("srv", Options{Files: []string{good, bad}, Env: env}); err == nil || !strings.HasPrefix(err.Error(), bad+": line 1:") {
		t.Errorf("error %v, want one for %s line 1", err, bad)
	}
}

func TestSSHConfigDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "15": 15 * time.Second, "15s": 15 * time.Second, "5m": 5 * time.Minute, "5M": 5 * time.Minute,
		"1h30m": 90 * time.Minute, "1h30": time.Hour + 30*time.Second, "2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour,
	} {
		got, err := parseTime(in)
		if err != nil || got != want {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5", "5x", "m", "1h 2m", "99999999999", "1y"} {
		if got, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) = %v, want an error", in, got)
		}
	}
}

// splitLine splits a line into keyword and arguments as pass.line does.
func splitLine(line string) (string, []string, error) {
	rest := strings.TrimRight(line, whitespace+"\f")
	kw, ok := strdelim(&rest)
	if ok && kw == "" {
		kw, ok = strdelim(&rest)
	}
	if !ok || kw == "" || kw[0] == '#' {
		return "", nil, nil
	}
	args, err := splitArgs(strings.TrimLeft(rest, whitespace))
	return kw, args, err
}

func TestSSHConfigSplitLine(t *testing.T) {
	for in, want := range map[string][]string{
		"":                              nil,
		"   # comment":                  nil,
		"Port 22":                       {"Port", "22"},
		"Port=22":                       {"Port", "22"},
		"  Port  =  22  ":               {"Port", "22"},
		"Host a b\tc":                   {"Host", "a", "b", "c"},
		`IdentityFile "/a b/c"`:         {"IdentityFile", "/a b/c"},
		`UserKnownHostsFile '/a b' "c"`: {"UserKnownHostsFile", "/a b", "c"},
		`IdentityFile /a\ b`:            {"IdentityFile", "/a b"},
		"User x # comment":              {"User", "x"},
		"User x#y":                      {"User", "x#y"},
		"Port":                          {"Port"},
	} {
		key, args, err := splitLine(in)
		var got []string
		if key != "" {
			got = append([]string{key}, args...)
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestResolveLikeSSH compares Resolve with `ssh -G` on configurations
// that exercise precedence (through the differential suite's runDiff).
func TestResolveLikeSSH(t *testing.T) {
	needSSH(t)
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	configs := []string{
		"Host srv\n  Port 1\nHost *\n  Port 2\n  User x\nHost srv\n  User y\n  ConnectTimeout 3\n",
		"Host * !srv\n  Port 1\nHost s*\n  Port 3\n  ServerAliveInterval 1m\n  ServerAliveCountMax 9\n",
		"Host srv\n  HostName %h.example.com\n  StrictHostKeyChecking accept-new\n  ProxyJump a@b:3,c\nHost *\n  ProxyJump none\n  IdentitiesOnly yes\n",
		"Host srv\n  ProxyCommand none\n  ProxyJump j\n  Port 7\n",
		"Match all\n  User m\nHost srv\n  User n\n",
		"Match final all\n  Port 9\n  User f\nHost srv\n  Port 1\nMatch canonical all\n  ConnectTimeout 8\nMatch final\n  ServerAliveCountMax 4\nHost *\n  ServerAliveCountMax 5\n",
	}
	var cases []diffCase
	for i, c := range configs {
		for _, target := range []string{"srv", "other"} {
			cases = append(cases, diffCase{name: "config " + strconv.Itoa(i), files: map[string]string{"config": c}, host: target})
		}
	}
	res := runDiff(t, cases, env)
	if res.bothAccept != len(cases) {
		t.Errorf("%d of %d cases accepted by both ssh -G and perch", res.bothAccept, len(cases))
	}
	for _, d := range res.disagreements {
		t.Error(d)
	}
}

// ssh caps times at INT_MAX seconds; a value past it is refused, also when
// the multiplication by its unit would overflow.
func TestSSHDurationLimit(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"2147483647", true}, {"2147483648", false}, {"35791394m", true}, {"35791395m", false},
		{"170000000m", false}, {"2147483646s1s", true}, {"2147483647s1s", false}, {"9999999999999w", false},
	} {
		d, err := parseTime(c.in)
		if (err == nil) != c.ok || d < 0 {
			t.Errorf("parseTime(%q) = %v, %v; want ok %v", c.in, d, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "too long") && !strings.Contains(err.Error(), "bad time") {
			t.Errorf("parseTime(%q): %v", c.in, err)
		}
	}
}
