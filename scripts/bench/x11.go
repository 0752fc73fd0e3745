package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	x11perfRate = regexp.MustCompile(`\(\s*([0-9.]+)/sec\)`)
	x11perfReps = regexp.MustCompile(`(?m)^\s*([0-9]+) reps @`)
)

// x11perf runs x11perf through a tunnel and returns its best rate (/sec)
// and the CPU time (user + system) the tunnel process spent per operation.
func (b *remoteBed) x11perf(tunnel []string, test string) (rate float64, cpuPerOp time.Duration, err error) {
	args := append(append([]string{}, tunnel[1:]...), "x11perf", "-repeat", "2", "-time", "2", test)
	cmd := exec.Command(tunnel[0], args...)
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	for _, m := range x11perfRate.FindAllStringSubmatch(string(out), -1) {
		r, _ := strconv.ParseFloat(m[1], 64)
		rate = max(rate, r)
	}
	reps := 0
	for _, m := range x11perfReps.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[1])
		reps += n
	}
	if rate == 0 || reps == 0 {
		return 0, 0, fmt.Errorf("no rate in x11perf's output:\n%s", out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return rate, cpu / time.Duration(reps), nil
}

// benchX11 compares perch exec with OpenSSH ssh -Y as X11 tunnels.
func benchX11(w *strings.Builder, b *remoteBed, perch string, runs int) error {
	perchT := []string{perch, "--config", b.cfg, "exec", "bed", "--"}
	sshT := []string{"ssh", "-F", b.sshd.SSHConfig, "-Y", b.sshd.HostAlias}
	fmt.Fprintf(w, "## X11 tunnel: `perch exec` vs OpenSSH `ssh -Y`\n\n")
	fmt.Fprintf(w, "x11perf run on the server (loopback sshd) against the local Xvfb through each tunnel, `-repeat 2 -time 2`,\n"+
		"%d alternating runs each; the rate is the median of each run's best rate, ratio perch ÷ ssh (above 1.00: perch faster).\n"+
		"Per run: the ratio of that run's perch and ssh rates (they ran one after the other), its range and how\n"+
		"often perch was ahead.\n"+
		"CPU is the tunnel process's own user + system time per operation (median over runs; x11perf's\n"+
		"calibration and the connection set-up are included), ratio ssh ÷ perch (above 1.00: perch uses less).\n\n", runs)
	fmt.Fprintf(w, "| test | perch | ssh -Y | ratio | per run: range, perch ahead | perch CPU/op | ssh CPU/op | CPU ratio |\n|---|---|---|---|---|---|---|---|\n")
	for _, test := range []string{"-putimage500", "-getimage10"} {
		var p, s, pc, sc, pr []float64
		ahead := 0
		for range runs {
			rp, c, err := b.x11perf(perchT, test)
			if err != nil {
				return err
			}
			p, pc = append(p, rp), append(pc, float64(c))
			rs, c, err := b.x11perf(sshT, test)
			if err != nil {
				return err
			}
			s, sc = append(s, rs), append(sc, float64(c))
			pr = append(pr, rp/rs)
			if rp >= rs {
				ahead++
			}
		}
		mp, ms := medianF(p), medianF(s)
		cp, cs := medianF(pc), medianF(sc)
		fmt.Fprintf(w, "| `%s` | %.1f/s | %.1f/s | %.2f | %.2f–%.2f, %d of %d | %s | %s | %.2f |\n", test, mp, ms, mp/ms,
			slices.Min(pr), slices.Max(pr), ahead, runs,
			time.Duration(cp).Round(100*time.Nanosecond), time.Duration(cs).Round(100*time.Nanosecond), cs/cp)
	}
	fmt.Fprintln(w)
	return nil
}

func medianF(v []float64) float64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c[len(c)/2]
}
