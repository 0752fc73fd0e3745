package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/perchdesk/perch/internal/testbed"
)

// demoConfig is the sandbox's configuration: a desk with two screens side
// by side (the dummy driver cannot rotate) and the first screen alone.
const demoConfig = `# perch demo configuration (written by perch demo)
default = "desk"

[profile.desk]
match = ["DUMMY0", "DUMMY1"]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1280x1024"
primary = true
[[profile.desk.output]]
name = "DUMMY1"
mode = "1024x768"
right-of = "DUMMY0"

[profile.sofa]
match = ["DUMMY0"]
[[profile.sofa.output]]
name = "DUMMY0"
mode = "1024x768"
primary = true
`

func (e *env) cmdDemo(ctx context.Context, args []string) error {
	fs := newFlagSet("demo")
	var keep time.Duration
	fs.DurationVar(&keep, "for", 0, "keep the sandbox running this long before cleaning up")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments")
	}
	fmt.Fprintln(e.stdout, "demo: starting a virtual display (Xorg, dummy driver) with two monitors ...")
	x, err := testbed.StartXorg(testbed.XorgOptions{Connected: 2})
	if err != nil {
		return fmt.Errorf("start the demo display (run `make deps` first): %w", err)
	}
	defer x.Close()
	x.Setenv()
	dir, err := os.MkdirTemp("", "perch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(demoConfig), 0o600); err != nil {
		return err
	}
	vars := map[string]string{"DISPLAY": x.Name, "PERCH_CONFIG": cfg}
	sub := &env{stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, getenv: func(k string) string { return vars[k] }}
	steps := [][]string{
		{"outputs"},
		{"layout", "apply", "--dry-run", "desk"},
		{"layout", "apply", "desk"},
		{"layout", "apply", "desk"},
		{"outputs"},
		{"layout", "apply", "sofa"},
	}
	for _, s := range steps {
		fmt.Fprintf(e.stdout, "\n$ DISPLAY=%s perch --config %s %s\n", x.Name, cfg, strings.Join(s, " "))
		if err := sub.dispatch(ctx, s); err != nil {
			return err
		}
	}
	if keep > 0 {
		fmt.Fprintf(e.stdout, "\ndemo: display %s stays up for %s (Ctrl-C ends it)\n", x.Name, keep)
		select {
		case <-ctx.Done():
		case <-time.After(keep):
		}
	}
	fmt.Fprintln(e.stdout, "\ndemo: done; the sandbox is cleaned up")
	return nil
}
