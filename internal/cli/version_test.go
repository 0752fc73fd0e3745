package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "d011808abcdef0123456789"},
		{Key: "vcs.time", Value: "2026-12-01T14:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		override, revision string
		bi                 debug.BuildInfo
		want               string
	}{
		{"", "", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.6.0"}, Settings: vcs},
			"v0.6.0 (revision d011808abcde, modified, 2026-12-01T14:00:00Z, go1.26.8)"},
		{"", "", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"(devel) (no VCS revision: built with -buildvcs=false, in a git worktree or outside a git checkout; go1.26.8)"},
		{"", "0123456789ab+modified", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"(devel) (revision 0123456789ab+modified, go1.26.8)"},
		{"1.0.0", "", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:2]},
			"1.0.0 (revision d011808abcde, go1.26.8)"},
	} {
		if got := describe(tc.override, tc.revision, &tc.bi); got != tc.want {
			t.Errorf("describe = %q, want %q", got, tc.want)
		}
	}
}

// TestVersionCommand: `perch version` and `perch --version` print the same
// line, from this test binary's own build information.
func TestVersionCommand(t *testing.T) {
	a, b := perch(t, nil, "version"), perch(t, nil, "--version")
	bi, _ := debug.ReadBuildInfo()
	if a.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "perch ") || !strings.Contains(a.stdout, bi.GoVersion) {
		t.Errorf("version: %q %q (exit %d, %d)", a.stdout, b.stdout, a.code, b.code)
	}
}
