package sshdial

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/hostsns"
)

// canonHosts makes bed.corp.example resolve to the bed's sshds, in the
// mount namespace of TestRealCanonical (see sshconf's canon_test.go for
// why each name is there with and without its trailing dot).
const canonHosts = `127.0.0.1 localhost
127.0.0.1 bed.corp.example bed.corp.example.
127.0.0.1 alias.corp.example alias.corp.example. short.lab.example. short.lab.example
`

// TestRealCanonical connects with CanonicalizeHostname through names of
// the namespace's /etc/hosts, with ssh and perch: the canonical name
// decides which block (and so which known_hosts file) applies, and the
// name the host key is looked up by. Both directions: a name that
// canonicalises reaches the canonical block, one that does not (fallback
// to the name as given) does not.
func TestRealCanonical(t *testing.T) {
	needRealBed(t)
	if !hostsns.Inside(t, canonHosts) {
		hostsns.Run(t, "TestRealCanonical", canonHosts)
		return
	}
	a := bed.a
	port := strconv.Itoa(a.Port)
	helper := buildFdpassHelper(t) // its -stream mode is the ProxyCommand
	cases := []struct {
		name, target, canon string
		want                bool
	}{
		{"canonicalised: the canonical block's known_hosts", "bed", "yes", true},
		{"canonicalised with always through a ProxyCommand", "bed", "always", true},
		{"not canonicalised (ProxyCommand, yes): the wrong known_hosts", "bed", "yes-proxied", false},
		{"no canonicalisation", "bed", "no", false},
		{"not found, fallback to the name", "localhost", "yes", false},
		{"CNAME followed to the canonical block", "short", "cname", true},
		{"CNAME not permitted", "short", "cname-denied", false},
	}
	agree := 0
	for _, c := range cases {
		cfgFor := func(dir string) string {
			right := khLine("", "[bed.corp.example]:"+port+",[alias.corp.example]:"+port, a.HostKey)
			wrong := khLine("", "*", bed.wrongEd)
			os.WriteFile(filepath.Join(dir, "right_kh"), []byte(right), 0o600)
			os.WriteFile(filepath.Join(dir, "wrong_kh"), []byte(wrong), 0o600)
			head := "CanonicalizeHostname yes\nCanonicalDomains corp.example\n"
			proxy := ""
			switch c.canon {
			case "always":
				head = "CanonicalizeHostname always\nCanonicalDomains corp.example\n"
				proxy = "  ProxyCommand " + helper + " -stream %h %p\n"
			case "yes-proxied":
				proxy = "  ProxyCommand " + helper + " -stream %h %p\n"
			case "no":
				head = "CanonicalizeHostname no\n"
			case "cname":
				head = "CanonicalizeHostname yes\nCanonicalDomains lab.example\nCanonicalizePermittedCNAMEs *.lab.example:*.corp.example\n"
			case "cname-denied":
				head = "CanonicalizeHostname yes\nCanonicalDomains lab.example\nCanonicalizePermittedCNAMEs *.lab.example:*.other.example\n"
			}
			// Only the second pass (after canonicalisation) sets the file.
			canonBlock := "Match canonical host bed.corp.example,alias.corp.example\n  UserKnownHostsFile " + filepath.Join(dir, "right_kh") +
				"\nMatch canonical\n  UserKnownHostsFile " + filepath.Join(dir, "wrong_kh") + "\n"
			rest := hostCfg("*", a, dir, "yes", "  GlobalKnownHostsFile /dev/null\n"+proxy)
			rest = strings.Replace(rest, "  HostName 127.0.0.1\n", "", 1) // the name given is the one canonicalised
			p := filepath.Join(dir, "config")
			os.WriteFile(p, []byte(head+canonBlock+rest), 0o600)
			return p
		}
		s, p := connectBoth(t, realCase{user: "-"}, c.target, cfgFor)
		if agreeWant(t, c.name, s, p, c.want) {
			agree++
		}
	}
	t.Logf("canonicalisation differential: %d cases, %d agree", len(cases), agree)
}
