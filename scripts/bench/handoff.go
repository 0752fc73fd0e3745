package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// handoff is the bed of the locations comparison: the remote bed's display
// is the desk, a second Xvfb the sofa.
type handoff struct {
	b     *remoteBed
	sofa  *testbed.Display
	perch string
	after time.Duration // follow_after of both agents
}

// benchHandoff measures moving every session from one location to the
// other: `perch take` and a key press under follow = "activity", against
// the manual way (`ssh -Y server 'xpra attach :N & ...'` at the new place).
func benchHandoff(w *strings.Builder, perch string, runs int) error {
	b, err := startRemote(2)
	if err != nil {
		return err
	}
	defer b.close()
	sofa, err := testbed.StartXvfb("1920x1080x24")
	if err != nil {
		return err
	}
	defer cleanOnInterrupt(func() { sofa.Close() })()
	h := &handoff{b: b, sofa: sofa, perch: perch, after: time.Second}
	take, follow, err := h.perchRuns(runs)
	if err != nil {
		return err
	}
	manual, one, err := h.manualRuns(runs)
	if err != nil {
		return err
	}
	n := len(b.xpras)
	fmt.Fprintf(w, "## Handoff between two locations: `perch take` and follow vs the manual way\n\n")
	fmt.Fprintf(w, "%d xpra displays running xeyes; two agents (`location` desk and sofa, two Xvfb); from `perch take`\n"+
		"(the CLI process included), or from a key press injected with xdotool at the idle location under\n"+
		"`follow = \"activity\"` (follow_after %s), until the %d windows are mapped at the new location and gone\n"+
		"from the old; %d moves of each kind, alternating the direction. The manual way (the anchor): at the new\n"+
		"place, `ssh -Y server 'xpra attach :N & ... wait'`; one xpra client start is the same for one display.\n\n",
		n, h.after, n, runs)
	fmt.Fprintf(w, "| | perch take | follow (key press) | manual (%d × xpra attach) | one xpra client start | ratio manual/take | ratio manual/follow |\n|---|---|---|---|---|---|---|\n", n)
	fmt.Fprintf(w, "| median | %s | %s | %s | %s | %.2f | %.2f |\n", ms(take.median()), ms(follow.median()), ms(manual.median()), ms(one.median()),
		float64(manual.median())/float64(take.median()), float64(manual.median())/float64(follow.median()))
	fmt.Fprintf(w, "| best | %s | %s | %s | %s | %.2f | %.2f |\n\n", ms(take.min()), ms(follow.min()), ms(manual.min()), ms(one.min()),
		float64(manual.min())/float64(take.min()), float64(manual.min())/float64(follow.min()))
	goal := one.median() + 500*time.Millisecond
	fmt.Fprintf(w, "Goal: no more than one xpra client start + 0.5 s = %s: take %s (%s), follow %s (%s).\n\n",
		ms(goal), ms(take.median()), verdict(take.median() <= goal), ms(follow.median()), verdict(follow.median() <= goal))
	return nil
}

// agent starts `perch up` at a location; stop ends it with SIGTERM.
func (h *handoff) agent(location string, x *testbed.Display) (sock string, stop func(), err error) {
	dir, err := os.MkdirTemp(h.b.dir, location+"-")
	if err != nil {
		return "", nil, err
	}
	var ds []string
	for _, d := range h.b.remote.Displays() {
		ds = append(ds, fmt.Sprint(d))
	}
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf(`location = %q
[server.bed]
ssh = %q
ssh_config = %q
keepalive = "2s"

[profile.p]
server = "bed"
displays = [%s]
follow = "activity"
follow_after = %q
[[profile.p.output]]
name = "screen"
`, location, h.b.sshd.HostAlias, h.b.sshd.SSHConfig, strings.Join(ds, ", "), h.after.String())
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return "", nil, err
	}
	sock = filepath.Join(dir, "control.sock")
	cmd := exec.Command(h.perch, "up", "p", "--config", cfg, "--socket", sock)
	cmd.Env = append(os.Environ(), x.Env()...)
	if os.Getenv("BENCH_DEBUG") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	return sock, func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }, nil
}

// xeyes counts the xeyes windows at a location.
func xeyes(x *testbed.Display) int {
	names, err := x.WindowNames()
	if err != nil {
		return -1
	}
	n := 0
	for _, s := range names {
		if strings.Contains(s, "xeyes") {
			n++
		}
	}
	return n
}

// moved waits until every window is at to and none at from.
func (h *handoff) moved(to, from *testbed.Display, timeout time.Duration) error {
	n := len(h.b.xpras)
	deadline := time.Now().Add(timeout)
	for xeyes(to) != n || xeyes(from) != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %d windows at %s (want %d), %d at %s (want 0)", timeout, xeyes(to), to.Name, n, xeyes(from), from.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (h *handoff) perchRuns(runs int) (take, follow stats, err error) {
	desk := h.b.local
	deskSock, stopDesk, err := h.agent("desk", desk)
	if err != nil {
		return take, follow, err
	}
	defer stopDesk()
	if err := h.moved(desk, h.sofa, 60*time.Second); err != nil {
		return take, follow, fmt.Errorf("desk start: %w", err)
	}
	sofaSock, stopSofa, err := h.agent("sofa", h.sofa)
	if err != nil {
		return take, follow, err
	}
	defer stopSofa()
	if err := h.moved(h.sofa, desk, 60*time.Second); err != nil {
		return take, follow, fmt.Errorf("sofa start: %w", err)
	}
	places := []struct {
		x    *testbed.Display
		sock string
	}{{desk, deskSock}, {h.sofa, sofaSock}}
	// The sessions are at the sofa: take to the desk, follow to the sofa,
	// take to the sofa... each move from where the last one left them.
	for i := 0; len(take.samples) < runs || len(follow.samples) < runs; i++ {
		to, from := places[i%2], places[(i+1)%2]
		if i%4 < 2 {
			start := time.Now()
			if out, err := exec.Command(h.perch, "take", "--socket", to.sock).CombinedOutput(); err != nil {
				return take, follow, fmt.Errorf("perch take: %v: %s", err, out)
			}
			if err := h.moved(to.x, from.x, 60*time.Second); err != nil {
				return take, follow, fmt.Errorf("perch take: %w", err)
			}
			take.add(time.Since(start))
			continue
		}
		// The new place has been idle for follow_after (and the last move
		// is as old): a key press there brings the sessions.
		time.Sleep(h.after + time.Second)
		key := exec.Command("xdotool", "key", "shift")
		key.Env = append(os.Environ(), to.x.Env()...)
		start := time.Now()
		if out, err := key.CombinedOutput(); err != nil {
			return take, follow, fmt.Errorf("xdotool: %v: %s", err, out)
		}
		if err := h.moved(to.x, from.x, 60*time.Second); err != nil {
			return take, follow, fmt.Errorf("follow: %w", err)
		}
		follow.add(time.Since(start))
	}
	return take, follow, nil
}

// attachAt runs the manual way at a location: `ssh -Y` with an `xpra
// attach` for each display in displays.
func (h *handoff) attachAt(x *testbed.Display, displays []int) (stop func(), err error) {
	var attach []string
	for _, d := range displays {
		attach = append(attach, fmt.Sprintf("xpra attach :%d &", d))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ssh", "-F", h.b.sshd.SSHConfig, "-Y", h.b.sshd.HostAlias, strings.Join(attach, " ")+" wait")
	cmd.Env = append(os.Environ(), x.Env()...)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	return func() { cancel(); _ = cmd.Wait() }, nil
}

func (h *handoff) manualRuns(runs int) (all, one stats, err error) {
	if err := h.b.waitNoAttach(30 * time.Second); err != nil {
		return all, one, err
	}
	displays := h.b.remote.Displays()
	at := []*testbed.Display{h.b.local, h.sofa}
	stopOld, err := h.attachAt(at[0], displays)
	if err != nil {
		return all, one, err
	}
	if err := h.moved(at[0], at[1], 60*time.Second); err != nil {
		stopOld()
		return all, one, err
	}
	for i := range runs {
		to, from := at[(i+1)%2], at[i%2]
		start := time.Now()
		stopNew, err := h.attachAt(to, displays)
		if err != nil {
			stopOld()
			return all, one, err
		}
		err = h.moved(to, from, 60*time.Second)
		d := time.Since(start)
		stopOld()
		stopOld = stopNew
		if err != nil {
			stopOld()
			return all, one, fmt.Errorf("manual: %w", err)
		}
		all.add(d)
	}
	stopOld()
	if err := h.b.waitNoAttach(30 * time.Second); err != nil {
		return all, one, err
	}
	// One xpra client start: one display, nothing to displace.
	for range runs {
		start := time.Now()
		stop, err := h.attachAt(h.sofa, displays[:1])
		if err != nil {
			return all, one, err
		}
		deadline := time.Now().Add(60 * time.Second)
		for xeyes(h.sofa) != 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		one.add(time.Since(start))
		stop()
		if err := h.b.waitNoAttach(30 * time.Second); err != nil {
			return all, one, err
		}
	}
	return all, one, nil
}
