package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat returns a process's CPU time (user+system) and RSS.
func procStat(pid int) (cpu time.Duration, rssKiB int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.Atoi(fields[11])
	st, _ := strconv.Atoi(fields[12])
	cpu = time.Duration(ut+st) * (time.Second / 100) // USER_HZ
	st2, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(st2), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			rssKiB, _ = strconv.Atoi(strings.Fields(l)[1])
		}
	}
	return cpu, rssKiB, nil
}

// benchIdle measures `perch up` with every session attached and nothing
// happening: RSS and CPU over a minute.
func benchIdle(w *strings.Builder, b *remoteBed, perch string, idle time.Duration) error {
	if err := b.waitWindows(0, 30*time.Second); err != nil {
		return err
	}
	cmd := exec.Command(perch, "--config", b.cfg, "--display", b.local.Name, "up", "desk", "--socket", filepath.Join(b.dir, "idle.sock"))
	cmd.Env = b.env
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = b.waitNoAttach(30 * time.Second)
	}()
	if err := b.waitWindows(len(b.xpras), 60*time.Second); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // settle
	c0, _, err := procStat(cmd.Process.Pid)
	if err != nil {
		return err
	}
	time.Sleep(idle)
	c1, rss, err := procStat(cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpu := c1 - c0
	fmt.Fprintf(w, "## Idle `perch up`: %d sessions attached, nothing happening\n\n", len(b.xpras))
	fmt.Fprintf(w, "Measured from /proc over %s after the windows were up (keepalive every 2 s).\n\n", idle)
	fmt.Fprintf(w, "| RSS | CPU time over %s | CPU |\n|---|---|---|\n", idle)
	fmt.Fprintf(w, "| %.1f MiB | %s | %.3f %% |\n\n", float64(rss)/1024, cpu, 100*cpu.Seconds()/idle.Seconds())
	fmt.Fprintf(w, "Targets: under 25 MiB RSS (%s), no measurable CPU when nothing happens (%s).\n\n",
		verdict(float64(rss)/1024 < 25), verdict(cpu.Seconds()/idle.Seconds() < 0.005))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}
