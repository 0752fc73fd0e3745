package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commandPaths are every command of the tree ("layout apply", ...).
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			p := append(append([]string{}, path...), sub.Name())
			out = append(out, p)
			walk(sub, p)
		}
	}
	walk(newRoot(e), nil)
	if len(out) < len(commands) {
		t.Fatalf("only %d commands in the tree", len(out))
	}
	return out
}

// TestHelpForEveryCommand: `perch help CMD`, `perch CMD --help` and
// `perch CMD -h` print the command's usage on stdout and exit 0.
func TestHelpForEveryCommand(t *testing.T) {
	for _, path := range commandPaths(t) {
		name := strings.Join(path, " ")
		for _, args := range [][]string{
			append([]string{"help"}, path...),
			append(append([]string{}, path...), "--help"),
			append(append([]string{}, path...), "-h"),
		} {
			r := perch(t, nil, args...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:\n  perch "+name) || r.stderr != "" {
				t.Errorf("perch %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
		}
	}
	r := perch(t, nil, "help")
	for _, want := range []string{"outputs", "layout", "check", "up", "status", "switch", "completion", "--config", "Exit codes: 0 done"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("perch help lacks %q (exit %d):\n%s", want, r.code, r.stdout)
		}
	}
}

// TestGlobalFlagsEveryForm: --config and --display in every form and
// place (issue 15), including Go flag's one-dash form.
func TestGlobalFlagsEveryForm(t *testing.T) {
	cfg := writeConfig(t, twoScreens)
	for _, args := range [][]string{
		{"--display=:9", "--config", cfg, "check"},
		{"-config=" + cfg, "check"},
		{"-config", cfg, "check"},
		{"--config", cfg, "--display=:9", "check"},
		{"check", "--config=" + cfg, "--display", ":9"},
		{"check", "-config", cfg},
		{"--display", ":9", "check", "--config", cfg},
	} {
		r := perch(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, cfg+": ok") {
			t.Errorf("perch %q: exit %d %s %s", args, r.code, r.stdout, r.stderr)
		}
	}
	// --display before the command reaches layout apply.
	r := perch(t, nil, "--display", ":4711", "--config", cfg, "layout", "apply", "desk")
	if r.code != 1 || !strings.Contains(r.stderr, "connect to X display :4711") {
		t.Errorf("--display before layout apply: %d %s", r.code, r.stderr)
	}
}
