package cli

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/app"
)

// FuzzParseArgs fuzzes the flag parser every command uses (flags before or
// after the positional arguments, "--" ending them), with the kinds of
// flags perch has: strings, booleans and durations. The arguments are the
// fuzz string split at NUL bytes. Seeds are in testdata/fuzz/FuzzParseArgs.
func FuzzParseArgs(f *testing.F) {
	f.Add("desk\x00--dry-run\x00--config\x00/tmp/c.toml")
	f.Add("--for=5m\x00--\x00-x\x00--json")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		if joined == "" {
			args = nil
		}
		p, err := parseArgs(args)
		pos, keep := p.pos, p.keep
		if err != nil {
			var ue *app.UsageError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("error %v (%T) is not a usage error", err, err)
			}
			if app.ExitCode(err) != ExitInvalid {
				t.Fatalf("error %v exits %d", err, app.ExitCode(err))
			}
			return
		}
		// The positional arguments are the input's, in order: those before
		// "--" that are not flags or flag values, then all after it.
		i := 0
		for _, p := range pos {
			for i < len(args) && args[i] != p {
				i++
			}
			if i == len(args) {
				t.Fatalf("positional %q of %q is not in order", pos, args)
			}
			i++
		}
		if k := slices.Index(args, "--"); k >= 0 {
			tail := args[k+1:]
			if len(pos) < len(tail) || !slices.Equal(pos[len(pos)-len(tail):], tail) {
				t.Fatalf("after --: %q, positional %q", tail, pos)
			}
		}
		k := slices.Index(args, "--")
		for _, p := range pos {
			if len(p) >= 2 && p[0] == '-' && (k < 0 || !slices.Contains(args[k+1:], p)) {
				t.Fatalf("flag-like %q taken as positional from %q", p, args)
			}
		}
		if keep < 0 && !strings.Contains(joined, "-") {
			t.Fatalf("negative duration %v from %q", keep, args)
		}
	})
}
