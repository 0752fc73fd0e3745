package sshconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// The differential suite: every case is resolved by OpenSSH's own
// `ssh -G -F FILE` and by perch, and the options perch uses are compared.
// A case where one accepts the configuration and the other refuses it is a
// disagreement unless perch's refusal is one it means (listed in the
// README: the options perch cannot honour, when they apply to the target).
//
// go test -run TestDiffSSHG -v ./sessions/sshconf prints the counts.

// diffCase is one configuration and one target.
type diffCase struct {
	name  string
	files map[string]string // relative to the case's ~/.ssh; "config" is the one given with -F
	host  string
	user  string // "" : none on the command line
	port  int    // 0 : none on the command line
	ctx   bool   // resolve with a Context: names are looked up now
}

// compared are the ssh -G keys perch must agree on.
var compared = []string{"hostname", "port", "user", "identityfile", "identitiesonly", "userknownhostsfile",
	"globalknownhostsfile", "stricthostkeychecking", "proxycommand", "proxyjump", "hostkeyalias",
	"hostkeyalgorithms", "connecttimeout", "serveraliveinterval", "serveralivecountmax", "hashknownhosts",
	"revokedhostkeys", "proxyusefdpass"}

// sshG runs ssh -G and returns its options (the compared keys), or the error.
func sshG(t *testing.T, home string, c diffCase) (map[string]string, error) {
	args := []string{"-G", "-F", filepath.Join(home, ".ssh", "config")}
	if c.user != "" {
		args = append(args, "-l", c.user)
	}
	if c.port != 0 {
		args = append(args, "-p", strconv.Itoa(c.port))
	}
	args = append(args, "--", c.host)
	cmd := exec.Command("ssh", args...)
	cmd.Env = []string{"HOME=" + home, "SHELL=/bin/sh", "PATH=" + os.Getenv("PATH"), "PERCH_DIFF=set"}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	got := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		k, v, _ := strings.Cut(l, " ")
		if k == "identityfile" {
			got[k] += v + "\n"
		} else if k != "" {
			got[k] = v
		}
	}
	return got, nil
}

// perchG is perch's answer in ssh -G's words.
func perchG(tg *Target) map[string]string {
	secs := func(d float64) string { return strconv.Itoa(int(d)) }
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	m := map[string]string{
		"hostname": tg.HostName, "port": strconv.Itoa(tg.Port), "user": tg.User,
		"identityfile":          tg.raw["identityfile"],
		"identitiesonly":        yn(tg.IdentitiesOnly),
		"userknownhostsfile":    strings.Join(tg.KnownHostsFiles, " "),
		"globalknownhostsfile":  strings.Join(tg.GlobalKnownHostsFiles, " "),
		"stricthostkeychecking": tg.StrictHostKeyChecking,
		"proxycommand":          tg.raw["proxycommand"],
		"proxyjump":             tg.raw["proxyjump"],
		"hostkeyalias":          tg.HostKeyAlias,
		"hostkeyalgorithms":     strings.Join(tg.HostKeyAlgorithms, ","),
		"connecttimeout":        secs(tg.ConnectTimeout.Seconds()),
		"serveraliveinterval":   secs(tg.ServerAliveInterval.Seconds()),
		"serveralivecountmax":   strconv.Itoa(tg.ServerAliveCountMax),
		"hashknownhosts":        yn(tg.HashKnownHosts),
		"revokedhostkeys":       tg.raw["revokedhostkeys"],
		"proxyusefdpass":        yn(tg.ProxyUseFdpass),
	}
	return m
}

// normalise maps ssh -G's spellings of defaults onto perch's.
func normalise(k, v string, ssh map[string]string, home string) string {
	switch k {
	case "stricthostkeychecking":
		return map[string]string{"true": "yes", "yes": "yes", "false": "no", "no": "no", "accept-new": "accept-new"}[v]
	case "connecttimeout":
		if v == "none" {
			return "0"
		}
	case "identityfile":
		if strings.HasPrefix(v, "~/.ssh/id_rsa\n~/.ssh/id_ecdsa\n") {
			return "" // ssh's defaults: perch lists those that exist
		}
	case "hostkeyalgorithms":
		if v == strings.Join(DefaultHostKeyAlgorithms, ",") {
			return ""
		}
	case "userknownhostsfile":
		if v == "none" {
			return ""
		}
	case "globalknownhostsfile":
		if v == "none" {
			return ""
		}
		// ssh -G prints it before expanding ~ (it does, to connect).
		return strings.ReplaceAll(" "+v, " ~/", " "+home+"/")[1:]
	case "proxyjump":
		// ssh prints the last hop rebuilt (user@host:port), the others as written.
		if hops, err := ParseJump(v); err == nil && !strings.EqualFold(v, "none") {
			var out []string
			for _, h := range hops {
				out = append(out, h.String())
			}
			return strings.Join(out, ",")
		}
		fallthrough
	case "proxycommand":
		if strings.EqualFold(v, "none") || ssh["proxycommand"] == "none" && k == "proxycommand" && ssh["proxyjump"] != "" {
			return ""
		}
	}
	return v
}

// sshLineRe finds the file and line ssh's error names.
var sshLineRe = regexp.MustCompile(`(/\S+?):? line (\d+)`)

// intended reports whether err is a refusal perch means (README).
func intended(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "is not supported by perch")
}

// diffResult counts a suite's outcome.
type diffResult struct {
	cases, bothAccept, bothRefuse, intendedRefusals int
	samePlace                                       int // refusals whose file and line were compared
	disagreements                                   []string
}

func runDiff(t *testing.T, cases []diffCase, env Env) diffResult {
	var res diffResult
	for _, c := range cases {
		res.cases++
		home := t.TempDir()
		for name, content := range c.files {
			p := filepath.Join(home, ".ssh", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		e := env
		e.HomeVar = home
		e.Getenv = func(k string) string {
			return map[string]string{"HOME": home, "PERCH_DIFF": "set"}[k]
		}
		want, sshErr := sshG(t, home, c)
		spec := Spec{Host: c.host, User: c.user, Port: c.port}
		o := Options{Files: []string{filepath.Join(home, ".ssh", "config")}, Env: &e}
		if c.ctx {
			o.Context = context.Background()
		}
		tg, err := ResolveSpec(spec, o)
		describe := func(msg string) string {
			return fmt.Sprintf("%s (target %q user %q port %d): %s\n--- config:\n%s", c.name, c.host, c.user, c.port, msg, c.files["config"])
		}
		switch {
		case sshErr != nil && err != nil:
			res.bothRefuse++
			if testing.Verbose() {
				t.Logf("%s: both refuse: ssh %q; perch %q", c.name+" "+c.host, lastLine(sshErr.Error()), err)
			}
			if m := sshLineRe.FindStringSubmatch(sshErr.Error()); m != nil {
				res.samePlace++
				var ce *Error
				if !errors.As(err, &ce) || filepath.Base(ce.File) != filepath.Base(m[1]) || strconv.Itoa(ce.Line) != m[2] {
					res.disagreements = append(res.disagreements, describe(fmt.Sprintf("both refuse, at different places: ssh %q, perch %q", sshErr, err)))
				}
			}
		case sshErr != nil:
			res.disagreements = append(res.disagreements, describe("ssh refuses ("+sshErr.Error()+"), perch accepts"))
		case err != nil && intended(err):
			res.intendedRefusals++
			if testing.Verbose() {
				t.Logf("%s: perch refuses on purpose: %v", c.name+" "+c.host, err)
			}
		case err != nil:
			res.disagreements = append(res.disagreements, describe("ssh accepts, perch refuses: "+err.Error()))
		default:
			res.bothAccept++
			got := perchG(tg)
			for _, k := range compared {
				w, g := normalise(k, want[k], want, env.Home), normalise(k, got[k], want, env.Home)
				if w != g {
					res.disagreements = append(res.disagreements, describe(fmt.Sprintf("%s: ssh %q, perch %q", k, w, g)))
				}
			}
		}
	}
	return res
}

// needSSH fails in CI, skips loudly elsewhere, without OpenSSH's client.
func needSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if testbed.InCI() {
			t.Fatalf("CI=true but ssh is missing: %v", err)
		}
		t.Skipf("!!! SKIPPING: ssh is missing (%v); run `make deps`", err)
	}
}

func TestDiffSSHG(t *testing.T) {
	needSSH(t)
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Shell = "/bin/sh"
	cases := append(handWritten(), generated(600)...)
	res := runDiff(t, cases, env)
	t.Logf("ssh -G differential: %d cases, %d both accept (options compared), %d both refuse (%d at a file:line compared), %d refused by perch on purpose, %d disagreements",
		res.cases, res.bothAccept, res.bothRefuse, res.samePlace, res.intendedRefusals, len(res.disagreements))
	for i, d := range res.disagreements {
		if i == 15 {
			t.Errorf("... and %d more", len(res.disagreements)-i)
			break
		}
		t.Error(d)
	}
	if res.bothAccept < res.cases/2 {
		t.Errorf("only %d of %d cases were accepted by both: the generator is broken", res.bothAccept, res.cases)
	}
}

// handWritten are configurations of the kinds people keep.
func handWritten() []diffCase {
	bastion := `# corporate bastion
Host *.corp.example !bastion.corp.example
  ProxyCommand ssh -W %h:%p bastion.corp.example
  User jdoe
Host bastion.corp.example
  User jdoe
  IdentityFile ~/.ssh/id_corp
Host *
  ServerAliveInterval 30
  IdentitiesOnly yes
`
	ssm := `# AWS Systems Manager
host i-* mi-*
    ProxyCommand sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p'"
Host devbox
  HostName 192.168.10.5
  User me
`
	generated := `Include ~/.ssh/tool/generated_config
Host myserver
  HostName myserver.example.org
  Port 2222
`
	tool := `# generated by a tool, do not edit
Host colima
  HostName 127.0.0.1
  Port 50022
  User me
  IdentityFile "~/.colima/_lima/_config/user"
  ProxyCommand none
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
Host orb
  ProxyCommand '/Applications/OrbStack.app/Contents/Frameworks/OrbStack Helper.app/Contents/MacOS/OrbStack Helper' ssh-proxy-fdpass 501
  ProxyUseFDPass yes
`
	nas := `Match host nas exec "ping -c1 -W1 nas.local >/dev/null 2>&1"
  HostName nas.local
Match host nas
  HostName nas.example.net
  Port 2200
Host *
  User admin
`
	gpg := `Match host * exec "gpg-connect-agent UPDATESTARTUPTTY /bye"
Host work
  HostName work.example.com
  User Domain\me
Host mail
  User me@example.com
  Port ssh
Host *
  ControlMaster auto
  ControlPath ~/.ssh/cm-%r@%h:%p
  ControlPersist 10m
  SendEnv LANG LC_*
  HashKnownHosts yes
`
	// Patterns where a '?' must take exactly one character and regexp
	// characters are literal (the library's Pattern does those without '?').
	patterns := `Host f?o
  User q1
Host a.b a+b
  User literal
Host *.example.com !x?.example.com
  Port 2201
Match host b?r,!baz
  Port 2202
Match originalhost FO?
  HostName hn.example.org
Host 10.0.0.? !10.0.0.1?
  User ip
Host *
  IdentityFile ~/.ssh/id_%h
`
	var cs []diffCase
	add := func(name, cfg string, extra map[string]string, hosts ...string) {
		for _, h := range hosts {
			files := map[string]string{"config": cfg}
			for k, v := range extra {
				files[k] = v
			}
			cs = append(cs, diffCase{name: name, files: files, host: h})
		}
	}
	add("bastion", bastion, nil, "app1.corp.example", "bastion.corp.example", "github.com", "APP.corp.example")
	add("ssm", ssm, nil, "i-0123456789abcdef0", "devbox", "mi-12", "server")
	add("include-generated", generated, map[string]string{"tool/generated_config": tool}, "myserver", "other", "colima", "orb")
	add("nas", nas, nil, "nas", "NAS", "router")
	add("gpg", gpg, nil, "work", "mail", "anything.example")
	add("patterns", patterns, nil, "fo", "foo", "fxo", "axb", "a.b", "aab", "a+b", "x.example.com", "xy.example.com",
		"xyz.example.com", "br", "bar", "baz", "FO", "fo1", "10.0.0.1", "10.0.0.10", "10.0.0.")
	for name, cfg := range issue21Configs() {
		add(name, cfg.config, cfg.extra, cfg.hosts...)
	}
	return cs
}

// issue21Config is a configuration of issue 21 and the targets to try.
type issue21Config struct {
	config string
	extra  map[string]string
	hosts  []string
}

// issue21Configs are the configurations ssh accepts that perch refused
// before issue 21 (and a few that ssh refuses, to keep perch as strict).
func issue21Configs() map[string]issue21Config {
	return map[string]issue21Config{
		"strict-no": {config: "Host *.lab\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\nHost off\n  StrictHostKeyChecking off\n" +
			"Host false\n  StrictHostKeyChecking false\nHost *\n  StrictHostKeyChecking No\n", hosts: []string{"a.lab", "off", "false", "other"}},
		"strict-no-top": {config: "StrictHostKeyChecking=no\nHost foo\n  StrictHostKeyChecking yes\n", hosts: []string{"foo", "bar"}},
		"deprecated": {config: "Host ka\n  ProtocolKeepAlives 30\nHost st\n  SetupTimeOut 10\n  ServerAliveInterval 99\n" +
			"Host id2\n  IdentityFile2 ~/.ssh/id_two\n  IdentityFile ~/.ssh/id_one\nHost *\n  UserKnownHostsFile2 ~/.ssh/kh2\n  GlobalKnownHostsFile2 /etc/ssh/kh2\n",
			hosts: []string{"ka", "st", "id2", "x"}},
		"addresses": {config: "Host v6\n  HostName 2001:db8:0:0699::1\nHost v6up\n  HostName 2001:DB8:0:0699::1\nHost short\n  HostName 127.1\n" +
			"Host hex\n  HostName 0x7f.0.0.1\nHost mapped\n  HostName ::ffff:1.2.3.4\nHost notaddr\n  HostName 1.2.3.4.5\nHost big\n  HostName 4294967295\n" +
			"Host oct\n  HostName 010.0.0.1\nHost nope\n  HostName 0x\nHost *\n  UserKnownHostsFile ~/.ssh/kh_%h\n  ProxyCommand nc %h %p\n",
			hosts: []string{"v6", "v6up", "short", "hex", "mapped", "notaddr", "big", "oct", "nope", "2001:db8::0001", "10.1", "FE80::1"}},
		"names": {config: "Host .host\n  ProxyCommand /usr/lib/systemd/systemd-ssh-proxy unix/run/ssh-unix-local/socket %p\n  ProxyUseFdpass yes\n  CheckHostIP no\n" +
			"Host unix/* vsock/*\n  ProxyCommand /usr/lib/systemd/systemd-ssh-proxy %h %p\n  ProxyUseFdpass yes\n  CheckHostIP no\n" +
			"Host *\n  User %r\n",
			hosts: []string{".host", "unix/run/x.sock", "vsock/3", "host.", "*", "h?st", "~root", "!host", "ho%st", "a,b", "..", "web-1_a.Example"}},
		"quoted-jump": {config: "Host q1\n  ProxyJump \"jump\"\nHost q2\n  ProxyJump 'me@jump'\nHost q3\n  ProxyJump \"me@jump:2222\"\n" +
			"Host q4\n  ProxyJump \"a,b\"\nHost q5\n  ProxyJump  = \"jump\" # comment\n", hosts: []string{"q1", "q2", "q3", "q4", "q5"}},
		"fdpass": {config: "Match all\n  ProxyUseFdpass yes\nHost cmd\n  ProxyCommand nc %h %p\nHost jump\n  ProxyJump j\n", hosts: []string{"cmd", "jump", "plain"}},
		"canon-no-lookup": {config: "CanonicalizeHostname yes\nCanonicalizeMaxDots 0\nCanonicalizeFallbackLocal yes\nCanonicalDomains none\n" +
			"CanonicalizePermittedCNAMEs none\nMatch canonical host foo\n  User canon\nMatch final\n  Port 2022\n",
			hosts: []string{"foo", "foo.bar", "10.0.0.1", "2001:DB8::1"}},
		"canon-fallback-no": {config: "Host strict*\n  CanonicalizeFallbackLocal no\nCanonicalizeHostname always\nCanonicalizeMaxDots 2\n",
			hosts: []string{"strict", "strict.a.b.c", "other", "127.0.0.1"}},
		"canon-bad":  {config: "Host x\n  CanonicalDomains exa..mple.com\n", hosts: []string{"y"}},
		"canon-bad2": {config: "Host x\n  CanonicalizePermittedCNAMEs *.a.example\n", hosts: []string{"y"}},
		"canon-bad3": {config: "CanonicalDomains none a.example\n", hosts: []string{"y"}},
		"canon-bad4": {config: "CanonicalizeMaxDots -1\n", hosts: []string{"y"}},
		"canon-bad5": {config: "CanonicalizeHostname sometimes\n", hosts: []string{"y"}},
	}
}

// generated returns n configurations made of random blocks (a fixed seed:
// the same cases every run).
func generated(n int) []diffCase {
	r := rand.New(rand.NewPCG(12, 2026))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	heads := []string{
		"Host foo", "Host FOO", "Host foo bar", "Host *.example.com", "Host !foo *", "Host * !bar",
		"Host f?o", "Host *", "Host 10.0.0.*", "Host i-* mi-*", "Host nas", "Host=foo",
		"Match all", "Match host foo", "Match host FOO", "Match !host foo", "Match originalhost foo",
		"Match originalhost FOO", "Match user bob", "Match user root", "Match localuser root",
		"Match !localuser root", "Match exec true", "Match exec false", `Match exec "test %h = foo"`,
		`Match exec "test %n = foo"`, `Match host foo exec "exit 1"`, "Match final", "Match final host real.example.com",
		"Match canonical", "Match !final", "Match host *.example.com,!bar.example.com", "Match host foo,bar user bob",
		"Match host nas exec \"test -n $PERCH_DIFF\"", `Match host * exec "gpg-connect-agent UPDATESTARTUPTTY /bye"`,
		"Match canonical all", "Match final all", "Match exec \"test %p = 2222\"", "Match exec \"test %r = bob\"",
		`Host "foo"`, "Host foo # comment", "Match host foo # comment", "Match Host FOO User bob", "Match !all",
		"Match exec \"test %%h != %h\"", "Match originalhost !x,*", "Match localuser !root,*", "Host !*",
		"Match host foo,bar !exec false", "Include inc*.conf",
	}
	settings := []string{
		"User bob", "User alice", "User Domain\\me", "User me@corp.example",
		"HostName real.example.com", "HostName %h.example.com", "HostName Upper.Example.COM", "HostName 10.0.0.7",
		"Port 2222", "Port ssh", "Port 22",
		"IdentityFile ~/.ssh/id_%h", "IdentityFile ~/.ssh/id_work", "IdentityFile %d/.ssh/k_%r",
		"IdentitiesOnly yes", "IdentitiesOnly no",
		"UserKnownHostsFile ~/.ssh/kh_%h ${HOME}/kh2", "UserKnownHostsFile /tmp/kh_%u_%p", "UserKnownHostsFile none",
		"GlobalKnownHostsFile /etc/ssh/other_known_hosts", "GlobalKnownHostsFile ~/global_kh",
		"StrictHostKeyChecking yes", "StrictHostKeyChecking accept-new", "StrictHostKeyChecking ask", "StrictHostKeyChecking no",
		"ProxyCommand nc %h %p", "ProxyCommand ssh -W %h:%p bastion # via bastion", "ProxyCommand none",
		"ProxyJump bastion", "ProxyJump bob@j1:2200,j2", "ProxyJump none",
		"ConnectTimeout 10", "ConnectTimeout 1m", "ConnectTimeout none",
		"ServerAliveInterval 15", "ServerAliveInterval 1h30m", "ServerAliveCountMax 5", "ServerAliveCountMax 0",
		"HostKeyAlias MyAlias", "HashKnownHosts yes", "HashKnownHosts no",
		"HostKeyAlgorithms +ssh-rsa", "HostKeyAlgorithms -ssh-rsa,rsa-sha2-256", "HostKeyAlgorithms ^ssh-ed25519",
		"HostKeyAlgorithms ssh-ed25519,rsa-sha2-512", "HostKeyAlgorithms ssh-ed25519*",
		"RevokedHostKeys ~/.ssh/revoked_%h", "ForwardAgent yes", "Compression yes", "LogLevel ERROR",
		"SendEnv LANG LC_*", "CheckHostIP yes", "CheckHostIP no", "User=eq", "Port = 2022",
		"IgnoreUnknown UseKeychain,AddKeysToAgent", "UseKeychain yes",
		`User "quoted user"`, `IdentityFile "~/.ssh/with space"`, `UserKnownHostsFile "~/a b" ~/c`,
		"ProxyCommand ssh -W %h:%p -l %r %n", "ProxyCommand sh -c 'nc %h %p'", "ProxyJump ssh://carol@j3:2022",
		"HostName %%literal", "IdentityFile ~/.ssh/%C", "UserKnownHostsFile ~/kh_%k_%L_%l_%i",
		"HostKeyAlias %h", "IgnoreUnknown *", "Frobnicate yes",
		// issue 21
		"StrictHostKeyChecking off", "StrictHostKeyChecking false", "ProtocolKeepAlives 20", "SetupTimeOut 7",
		"IdentityFile2 ~/.ssh/id_old", "UserKnownHostsFile2 ~/.ssh/kh2", "GlobalKnownHostsFile2 /etc/kh2",
		"ProxyUseFdpass yes", "ProxyUseFdpass no", `ProxyJump "bastion"`, "HostName 2001:DB8:0:0699::1", "HostName 127.1",
		"CanonicalizeHostname yes", "CanonicalizeHostname always", "CanonicalizeHostname no", "CanonicalizeMaxDots 0",
		"CanonicalizeFallbackLocal no", "CanonicalDomains none",
	}
	bad := []string{"Port 0", "Port abc", "ConnectTimeout 5x", "Bogus yes", "User", "ServerAliveCountMax -1",
		"StrictHostKeyChecking maybe", "IdentitiesOnly sure", "Match bogus x", "Match host", "Match all host foo",
		"HostKeyAlgorithms nope", "User a b"}
	targets := []string{"foo", "FOO", "bar", "x.example.com", "bar.example.com", "i-0abc", "10.0.0.5", "nas", "real.example.com",
		".host", "2001:DB8::01"}
	// mutate writes a line in one of the spellings ssh accepts: keyword
	// case, '=' or tabs between keyword and value, a trailing comment.
	mutate := func(l string) string {
		kw, rest, _ := strings.Cut(l, " ")
		switch r.IntN(6) {
		case 0:
			kw = strings.ToUpper(kw)
		case 1:
			kw = strings.ToLower(kw)
		}
		sep := []string{" ", "=", " = ", "\t", " \t"}[r.IntN(5)]
		if strings.Contains(kw, "=") {
			sep = " "
		}
		out := kw + sep + rest
		if r.IntN(5) == 0 && !strings.HasPrefix(strings.ToLower(kw), "proxycommand") {
			out += " # comment"
		}
		if r.IntN(8) == 0 {
			out += " \t "
		}
		return out
	}
	var cs []diffCase
	for i := range n {
		var b strings.Builder
		blocks := 1 + r.IntN(4)
		if r.IntN(3) == 0 {
			for range 1 + r.IntN(2) {
				fmt.Fprintf(&b, "%s\n", mutate(pick(settings)))
			}
		}
		files := map[string]string{}
		for range blocks {
			fmt.Fprintf(&b, "%s\n", mutate(pick(heads)))
			for range 1 + r.IntN(4) {
				fmt.Fprintf(&b, "  %s\n", mutate(pick(settings)))
			}
			if r.IntN(40) == 0 {
				fmt.Fprintf(&b, "  %s\n", pick(bad))
			}
			if r.IntN(8) == 0 {
				var inc strings.Builder
				fmt.Fprintf(&inc, "%s\n  %s\n%s\n  %s\n", pick(heads), pick(settings), pick(heads), pick(settings))
				if r.IntN(4) == 0 { // read even from an inactive block: ssh refuses it all the same
					fmt.Fprintf(&inc, "  %s\n", pick(bad))
				}
				files[fmt.Sprintf("inc%d.conf", len(files))] = inc.String()
				fmt.Fprintf(&b, "  Include inc*.conf\n")
			}
		}
		files["config"] = b.String()
		c := diffCase{name: fmt.Sprintf("generated-%d", i), files: files, host: pick(targets)}
		if r.IntN(5) == 0 {
			c.user = "bob"
		}
		if r.IntN(6) == 0 {
			c.port = 2222
		}
		cs = append(cs, c)
	}
	return cs
}

// TestIntended checks that perch's own refusals name the file and line.
func TestIntended(t *testing.T) {
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte("Host other\n  PKCS11Provider /usr/lib/p11.so\nHost foo\n  PKCS11Provider /usr/lib/p11.so\n"), 0o600)
	_, err = ResolveSpec(Spec{Host: "foo"}, Options{Files: []string{cfg}, Env: &env})
	var ce *Error
	if !errors.As(err, &ce) || ce.File != cfg || ce.Line != 4 || !intended(err) {
		t.Fatalf("PKCS11Provider for foo: %v", err)
	}
	if _, err := ResolveSpec(Spec{Host: "bar"}, Options{Files: []string{cfg}, Env: &env}); err != nil {
		t.Fatalf("a block for another host stopped bar: %v", err)
	}
}

// TestBadOwnerOrPermissions: ~/.ssh/config (and what it includes) must
// not be writable by others, as ssh insists.
func TestBadOwnerOrPermissions(t *testing.T) {
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Home = t.TempDir()
	env.HomeVar = env.Home
	cfg := filepath.Join(env.Home, ".ssh", "config")
	inc := filepath.Join(env.Home, ".ssh", "inc")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("Host foo\n  User bob\nInclude inc\n"), 0o600)
	os.WriteFile(inc, []byte("Host bar\n  User alice\n"), 0o600)
	if _, err := ResolveSpec(Spec{Host: "foo"}, Options{Env: &env}); err != nil {
		t.Fatalf("private files: %v", err)
	}
	for _, f := range []string{cfg, inc} {
		os.Chmod(f, 0o620)
		_, err := ResolveSpec(Spec{Host: "foo"}, Options{Env: &env})
		var ce *Error
		if !errors.As(err, &ce) || ce.File != f || !strings.Contains(err.Error(), "Bad owner or permissions") || !strings.Contains(err.Error(), "chmod go-w") {
			t.Errorf("%s writable by its group: %v", f, err)
		}
		os.Chmod(f, 0o600)
	}
}

// lastLine is the last line of s.
func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
