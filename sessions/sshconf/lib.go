package sshconf

import (
	"strings"

	sshc "github.com/kevinburke/ssh_config"
)

// What perch takes from kevinburke/ssh_config, the project's ssh_config
// package: OpenSSH's defaults for the keywords below, and its Pattern for
// patterns without '?'. The rest (Match, Include, %-tokens, quoting, '?',
// value checks) is perch's own because OpenSSH 9.2 goes beyond the library
// there; README lists a counter-example for each, which lib_test.go checks
// against ssh -G.

// libDefaults are the keywords whose default perch takes from
// ssh_config.Default, the ones where the library's defaults are still
// OpenSSH 9.2's. Not IdentityFile, HostKeyAlgorithms nor CheckHostIP: the
// library has OpenSSH 7.4's.
var libDefaults = []string{"port", "serveraliveinterval", "serveralivecountmax", "identitiesonly",
	"hashknownhosts", "userknownhostsfile", "globalknownhostsfile"}

// withDefaults fills the keywords of libDefaults that no line set.
func (st *state) withDefaults() {
	for _, k := range libDefaults {
		if st.first[k] == nil {
			st.first[k] = &setting{key: k, args: strings.Fields(sshc.Default(k)), file: "OpenSSH's default"}
		}
	}
}

// defaultPort is ssh's port when neither the target nor a line gives one.
func defaultPort() int {
	n, _ := parsePort(sshc.Default("Port"))
	return n
}

// matchGlob is ssh's match_pattern for one pattern (its '!' already
// taken off). The library's Pattern does it for patterns without '?'; its
// '?' matches zero or one character where ssh's matches exactly one, so
// those stay with matchPattern, as do patterns it would read differently
// (a leading '!', bytes beyond ASCII, which its regexp reads as runes).
func matchGlob(s, pattern string) bool {
	if pattern != "" && pattern[0] != '!' && !strings.ContainsFunc(pattern, func(r rune) bool { return r == '?' || r >= 0x80 }) {
		if p, err := sshc.NewPattern(pattern); err == nil {
			return (&sshc.Host{Patterns: []*sshc.Pattern{p}}).Matches(s)
		}
	}
	return matchPattern(s, pattern)
}
