package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// preCobra is the last commit of perch's hand-written command line; the
// CLI start-up comparison builds it as the anchor.
const preCobra = "d011808"

// buildAt builds ./cmd/perch as it was at commit rev, from `git archive`
// into a temporary directory (no worktree is registered), and returns the
// binary, inside dir.
func buildAt(rev, dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", rev, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %w\n%s", rev, err, out)
	}
	bin := filepath.Join(dir, "perch-"+rev)
	build := exec.Command("go", "build", "-o", bin, "./cmd/perch")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build perch at %s: %w\n%s", rev, err, out)
	}
	return bin, nil
}

// benchCLI compares the command line's start-up before cobra (commit
// preCobra) and now, alternating the two binaries: `perch version`, and
// `perch status` against one running agent.
func benchCLI(w *strings.Builder, n int, perch string) error {
	dir, err := os.MkdirTemp("", "perch-bench-cli-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	old, err := buildAt(preCobra, dir)
	if err != nil {
		return err
	}
	x, err := testbed.StartXorg(testbed.XorgOptions{Connected: 1})
	if err != nil {
		return err
	}
	defer cleanOnInterrupt(func() { x.Close() })()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[profile.one]\n[[profile.one.output]]\nname = \"DUMMY0\"\n"), 0o600); err != nil {
		return err
	}
	sock := filepath.Join(dir, "control.sock")
	env := append(os.Environ(), x.Env()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := exec.CommandContext(ctx, perch, "up", "one", "--config", cfg, "--socket", sock)
	up.Env = env
	if err := up.Start(); err != nil {
		return err
	}
	defer func() { cancel(); _ = up.Wait() }()
	runOnce := func(bin string, args ...string) (time.Duration, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
		}
		return d, nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := runOnce(perch, "status", "--socket", sock); err == nil {
			break
		} else if time.Now().After(deadline) {
			return fmt.Errorf("the agent did not answer within 20s: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	works := []struct {
		name string
		args []string
	}{
		{"`perch version`", []string{"version"}},
		{"`perch status` (one agent)", []string{"status", "--socket", sock}},
	}
	fmt.Fprintf(w, "## CLI start-up: the cobra command line vs the hand-written one\n\n")
	fmt.Fprintf(w, "Whole processes, %d runs of each, alternating the binary built from %s (before cobra) and bin/perch.\n", n, preCobra)
	fmt.Fprintf(w, "Goal: now/before at most 1.10.\n\n")
	fmt.Fprintf(w, "| work | before median | now median | ratio now/before |\n|---|---|---|---|\n")
	for _, wk := range works {
		var before, now stats
		for i := 0; i < n; i++ {
			d, err := runOnce(old, wk.args...)
			if err != nil {
				return err
			}
			before.add(d)
			if d, err = runOnce(perch, wk.args...); err != nil {
				return err
			}
			now.add(d)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f |\n", wk.name, ms(before.median()), ms(now.median()),
			float64(now.median())/float64(before.median()))
	}
	fmt.Fprintln(w)
	return nil
}
