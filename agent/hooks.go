package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// hook runs one before/after command with sh -c, bounded by HookTimeout,
// logging its output line by line.
func (a *Agent) hook(ctx context.Context, phase, command string) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.HookTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	log := a.log.With("hook", phase, "command", command)
	var last string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			log.Info("hook output", "line", line)
			last = line
		}
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%s hook %q did not finish within %s", phase, command, a.opts.HookTimeout)
	case err != nil && last != "":
		return fmt.Errorf("%s hook %q failed (%v): %s", phase, command, err, last)
	case err != nil:
		return fmt.Errorf("%s hook %q failed: %w", phase, command, err)
	}
	log.Info("hook done")
	return nil
}
