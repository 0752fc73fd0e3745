package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version, when set at build time with -ldflags "-X
// github.com/perchdesk/perch/internal/cli.Version=...", wins over the
// module version in the build information.
var Version = ""

// Revision, when set at build time (-X ...cli.Revision=...), stands in for
// the VCS revision the Go toolchain could not stamp: it stamps none in a
// git worktree (.git is a file there) or with -buildvcs=false. The
// Makefile sets it from git rev-parse.
var Revision = ""

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print perch's version and VCS revision",
		Long:  "version prints the module version and the VCS revision perch was built from (from the Go build information).",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(e.stdout, "perch "+version())
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
}

// version is "MODULE-VERSION (revision REV[, modified], TIME)" from the
// build information, or what it lacks said plainly.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if Version != "" {
			return Version
		}
		return "unknown (no build information in the binary)"
	}
	return describe(Version, Revision, bi)
}

func describe(override, revision string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if override != "" {
		v = override
	}
	if v == "" {
		v = "(devel)"
	}
	s := map[string]string{}
	for _, kv := range bi.Settings {
		s[kv.Key] = kv.Value
	}
	rev := s["vcs.revision"]
	if rev == "" && revision != "" {
		return v + " (revision " + revision + ", " + bi.GoVersion + ")"
	}
	if rev == "" {
		return v + " (no VCS revision: built with -buildvcs=false, in a git worktree or outside a git checkout; " + bi.GoVersion + ")"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := v + " (revision " + rev
	if s["vcs.modified"] == "true" {
		out += ", modified"
	}
	if t := s["vcs.time"]; t != "" {
		out += ", " + t
	}
	return out + ", " + bi.GoVersion + ")"
}
