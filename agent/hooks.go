package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// hookOutputMax bounds the output of a hook that perch reads and logs.
const hookOutputMax = 64 << 10

// hook runs one before/after command with sh -c, bounded by HookTimeout,
// logging its output line by line.
//
// The command runs in a process group of its own: at the timeout, or when
// ctx ends (the agent stops), the whole group is killed, children
// included. Its output goes to an unlinked temporary file, not a pipe, so
// that a child it leaves in the background ("daemon &") cannot hold the
// agent until that child ends.
func (a *Agent) hook(ctx context.Context, phase, command string) error {
	tctx, cancel := context.WithTimeout(ctx, a.opts.HookTimeout)
	defer cancel()
	out, err := os.CreateTemp("", "perch-hook-*")
	if err != nil {
		return fmt.Errorf("%s hook %q: a file for its output: %w", phase, command, err)
	}
	os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(tctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	log := a.log.With("hook", phase, "command", command)
	var last string
	if _, serr := out.Seek(0, io.SeekStart); serr == nil {
		sc := bufio.NewScanner(io.LimitReader(out, hookOutputMax))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" {
				log.Info("hook output", "line", line)
				last = line
			}
		}
	}
	switch {
	case errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("%s hook %q did not finish within %s: stopped it", phase, command, a.opts.HookTimeout)
	case ctx.Err() != nil:
		return fmt.Errorf("%s hook %q: stopped: %w", phase, command, ctx.Err())
	case err != nil && last != "":
		return fmt.Errorf("%s hook %q failed (%v): %s", phase, command, err, last)
	case err != nil:
		return fmt.Errorf("%s hook %q failed: %w", phase, command, err)
	}
	log.Info("hook done")
	return nil
}
