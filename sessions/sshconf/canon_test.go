package sshconf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/hostsns"
)

// canonHosts is the /etc/hosts TestDiffCanonical gives ssh and perch in a
// mount namespace of their own. The first name of a line carries no
// trailing dot and the others are there in both spellings, so that
// glibc (ssh) and Go's resolver (perch) read the file alike.
const canonHosts = `127.0.0.1 localhost
127.0.0.2 srv.corp.example srv.corp.example.
127.0.0.3 real.other.example real.other.example. cn.corp.example. cn.corp.example
127.0.0.4 web.lab.example web.lab.example.
127.0.0.5 db.corp.example db.corp.example. db.lab.example. db.lab.example
`

// canonCases are the canonicalisation configurations, each tried with
// ssh -G and perch in the namespace.
func canonCases() []diffCase {
	cfgs := []struct {
		name, config string
		hosts        []string
	}{
		{"yes", "CanonicalizeHostname yes\nCanonicalDomains corp.example lab.example\nHost srv.corp.example\n  User canon\n" +
			"Host web.lab.example\n  Port 2201\nHost srv\n  User short\n  Port 2202\n",
			[]string{"srv", "web", "db", "nope", "srv.corp.example", "web.lab", "SRV", "srv.corp.example.", "127.2", "127.0.0.2"}},
		{"fallback-no", "CanonicalizeHostname yes\nCanonicalDomains lab.example corp.example\nCanonicalizeFallbackLocal no\nHost db.lab.example\n  User lab\n",
			[]string{"srv", "db", "nope", "nope.x", "nope.x.y"}},
		{"maxdots-0", "CanonicalizeHostname yes\nCanonicalizeMaxDots 0\nCanonicalDomains example corp.example\nHost *.example\n  User dotted\n",
			[]string{"srv", "web.lab", "srv.corp"}},
		{"maxdots-2", "CanonicalizeHostname yes\nCanonicalizeMaxDots 2\nCanonicalDomains example\nHost *.example\n  User dotted\n",
			[]string{"web.lab", "srv.corp", "a.b.c"}},
		{"cnames", "CanonicalizeHostname yes\nCanonicalDomains corp.example lab.example\nCanonicalizePermittedCNAMEs *.corp.example:*.other.example *.lab.example:*.corp.example\n" +
			"Host real.other.example\n  User followed\nHost db.corp.example\n  Port 2203\n",
			[]string{"cn", "db", "srv", "cn.corp.example"}},
		{"cnames-star", "CanonicalizeHostname yes\nCanonicalDomains corp.example\nCanonicalizePermittedCNAMEs *\nHost real.other.example\n  User followed\n",
			[]string{"cn", "srv"}},
		{"cnames-only", "CanonicalizePermittedCNAMEs *.corp.example:*.other.example\nHost real.other.example\n  User followed\n",
			[]string{"cn.corp.example", "srv.corp.example", "nope.corp.example"}},
		{"cnames-only-proxied", "CanonicalizePermittedCNAMEs *.corp.example:*.other.example\nProxyCommand nc %h %p\n",
			[]string{"cn.corp.example", "nope.corp.example"}},
		{"proxy-yes", "CanonicalizeHostname yes\nCanonicalDomains corp.example\nHost srv srv.corp.example\n  ProxyCommand nc %h %p\nHost srv.corp.example\n  User canon\n",
			[]string{"srv"}},
		{"proxy-always", "CanonicalizeHostname always\nCanonicalDomains corp.example\nHost srv srv.corp.example\n  ProxyJump bastion\nHost srv.corp.example\n  User canon\n",
			[]string{"srv"}},
		{"match", "CanonicalizeHostname yes\nCanonicalDomains corp.example\nMatch canonical host srv.corp.example\n  User mc\n" +
			"Match !canonical host srv\n  Port 2300\nMatch final host *.corp.example\n  IdentityFile ~/.ssh/id_corp\n",
			[]string{"srv", "web", "srv.corp.example"}},
		{"hostname", "Host alias\n  HostName srv\nHost *\n  CanonicalizeHostname yes\n  CanonicalDomains corp.example\nHost srv.corp.example\n  User viahostname\n",
			[]string{"alias", "srv"}},
		{"scoped", "Host work-*\n  CanonicalizeHostname yes\n  CanonicalDomains corp.example\nHost srv.corp.example\n  User canon\n",
			[]string{"srv", "work-1"}},
	}
	var cs []diffCase
	for _, c := range cfgs {
		for _, h := range c.hosts {
			cs = append(cs, diffCase{name: "canonical-" + c.name, files: map[string]string{"config": c.config}, host: h, ctx: true})
		}
	}
	return cs
}

// TestDiffCanonical compares CanonicalizeHostname and its options with
// ssh -G on names made resolvable by an /etc/hosts of the test's own, in a
// private mount namespace (the test runs itself again under unshare -m).
func TestDiffCanonical(t *testing.T) {
	needSSH(t)
	if !hostsns.Inside(t, canonHosts) {
		hostsns.Run(t, "TestDiffCanonical", canonHosts)
		return
	}
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Shell = "/bin/sh"
	res := runDiff(t, canonCases(), env)
	t.Logf("canonical differential: %d cases, %d both accept (options compared), %d both refuse, %d disagreements",
		res.cases, res.bothAccept, res.bothRefuse, len(res.disagreements))
	for _, d := range res.disagreements {
		t.Error(d)
	}
	if res.bothAccept < res.cases/2 || res.bothRefuse == 0 {
		t.Errorf("%d accepted and %d refused of %d: the cases do not tell", res.bothAccept, res.bothRefuse, res.cases)
	}
}

// mapResolver is a Resolver from a table: name (with or without its
// trailing dot) to canonical name; it counts the lookups.
type mapResolver struct {
	names   map[string]string
	lookups []string
}

func (m *mapResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	m.lookups = append(m.lookups, host)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := m.names[strings.TrimSuffix(host, ".")]; ok {
		return []string{"192.0.2.1"}, nil
	}
	return nil, errors.New("no such host")
}

func (m *mapResolver) LookupCNAME(ctx context.Context, host string) (string, error) {
	return m.names[strings.TrimSuffix(host, ".")] + ".", nil
}

// TestCanonicalResolver: an injected resolver is used, lookups wait for a
// Context (Final does them with the connection's), and a cancelled one
// stops them.
func TestCanonicalResolver(t *testing.T) {
	env, err := SystemEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte("CanonicalizeHostname yes\nCanonicalDomains a.example b.example\nCanonicalizePermittedCNAMEs *.b.example:*.c.example\n"+
		"CanonicalizeFallbackLocal no\nHost x.c.example\n  User followed\n"), 0o600)
	r := &mapResolver{names: map[string]string{"x.b.example": "x.c.example", "y.a.example": "y.a.example"}}
	o := Options{Files: []string{cfg}, Env: &env, Resolver: r}
	tg, err := ResolveSpec(Spec{Host: "x"}, o)
	if err != nil || len(r.lookups) != 0 || tg.HostName != "x" {
		t.Fatalf("without a Context: %v, %+v, lookups %q (want none yet)", err, tg, r.lookups)
	}
	final, err := tg.Final(context.Background())
	if err != nil || final.HostName != "x.c.example" || final.User != "followed" {
		t.Fatalf("Final: %v, %+v", err, final)
	}
	if want := []string{"x.a.example.", "x.b.example."}; strings.Join(r.lookups, " ") != strings.Join(want, " ") {
		t.Errorf("lookups %q, want %q", r.lookups, want)
	}
	o.Context = context.Background()
	if tg, err := ResolveSpec(Spec{Host: "y"}, o); err != nil || tg.HostName != "y.a.example" {
		t.Errorf("y: %v %+v", err, tg)
	}
	_, err = ResolveSpec(Spec{Host: "z"}, o)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != cfg || ce.Line != 4 {
		t.Errorf("z with CanonicalizeFallbackLocal no: %v (want %s line 4)", err, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tg.Final(ctx); err == nil {
		t.Errorf("Final with a cancelled context: no error")
	}
}
