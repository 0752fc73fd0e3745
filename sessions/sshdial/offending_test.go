package sshdial

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

var (
	sshOffendingRe   = regexp.MustCompile(`Offending \S+ key in (\S+):(\d+)`)
	perchOffendingRe = regexp.MustCompile(`the known key is at (\S+):(\d+) `)
)

// TestRealOffendingLine: a changed key is refused naming the known_hosts
// line ssh names ("Offending ... key in FILE:N"), which is the last entry
// for the host that does not match, whatever its type. (The old
// sessions/hostkeys_test.go wanted the line of the presented key's type.)
func TestRealOffendingLine(t *testing.T) {
	needRealBed(t)
	hp := "[127.0.0.1]:" + strconv.Itoa(bed.a.Port)
	for _, c := range []realCase{
		{name: "wrong ed25519, wrong ecdsa", user: khLine("", hp, bed.wrongEd) + khLine("", hp, bed.wrongEc), strict: "accept-new"},
		{name: "wrong ecdsa, wrong ed25519", user: khLine("", hp, bed.wrongEc) + khLine("", hp, bed.wrongEd), strict: "accept-new"},
		{name: "wrong ed25519, comment", user: khLine("", hp, bed.wrongEd) + "# a comment\n", strict: "accept-new"},
	} {
		s, p := connectBoth(t, c, "target", c.config)
		sm, pm := sshOffendingRe.FindStringSubmatch(s.msg), perchOffendingRe.FindStringSubmatch(p.msg)
		if s.ok || p.ok || sm == nil || pm == nil {
			t.Errorf("%s: want both refused naming a line: ssh ok=%v %q, perch ok=%v %q", c.name, s.ok, s.msg, p.ok, p.msg)
			continue
		}
		if filepath.Base(sm[1]) != filepath.Base(pm[1]) || sm[2] != pm[2] {
			t.Errorf("%s: ssh names %s:%s, perch %s:%s", c.name, sm[1], sm[2], pm[1], pm[2])
		}
		t.Logf("%s: both name %s line %s", c.name, filepath.Base(pm[1]), pm[2])
	}
}
