package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// coldStart starts cmd and returns the time until every window is on
// screen; then it stops cmd with SIGTERM and waits for the server side to
// be clean.
func (b *remoteBed) coldStart(args []string) (time.Duration, error) {
	if err := b.waitWindows(0, 30*time.Second); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = b.env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if os.Getenv("BENCH_DEBUG") != "" {
		cmd.Stderr = os.Stderr
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	err := b.waitWindows(len(b.xpras), 60*time.Second)
	d := time.Since(start)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	if err := b.waitNoAttach(30 * time.Second); err != nil {
		return 0, err
	}
	return d, nil
}

// benchColdStart compares `perch up` with the original script's way.
func benchColdStart(w *strings.Builder, b *remoteBed, perch string, runs int) error {
	var attach []string
	for _, x := range b.xpras {
		attach = append(attach, fmt.Sprintf("xpra attach :%d &", x.Display))
	}
	script := strings.Join(attach, " ") + " wait"
	perchCmd := []string{perch, "--config", b.cfg, "--display", b.local.Name, "up", "desk"}
	sshCmd := []string{"ssh", "-F", b.sshd.SSHConfig, "-Y", b.sshd.HostAlias, script}
	var p, s stats
	for range runs {
		d, err := b.coldStart(perchCmd)
		if err != nil {
			return err
		}
		p.add(d)
		d, err = b.coldStart(sshCmd)
		if err != nil {
			return err
		}
		s.add(d)
	}
	fmt.Fprintf(w, "## Cold start to every window on screen: `perch up` vs the original way%s\n\n", variantNote())
	fmt.Fprintf(w, "%d xpra displays running xeyes; from starting the process to %d xeyes windows mapped on the local\n"+
		"Xvfb; %d alternating runs each. The original way: `ssh -Y server '%s'`.\n\n", len(b.xpras), len(b.xpras), runs, script)
	fmt.Fprintf(w, "| | perch up | ssh -Y + xpra attach & | ratio ssh/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| median | %s | %s | %.2f |\n", ms(p.median()), ms(s.median()), float64(s.median())/float64(p.median()))
	fmt.Fprintf(w, "| best | %s | %s | %.2f |\n\n", ms(p.min()), ms(s.min()), float64(s.min())/float64(p.min()))
	return nil
}
