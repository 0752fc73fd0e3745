package main

// The local-client comparison (-only xlocal, issue 16): one xpra server
// on the far side of a veth pair (sshd in a network namespace) runs a
// 640x480 animation at 30 frames a second; the thin client is an Xvfb.
// Three ways to show it: perch's remote mode (xpra's client on the server,
// drawing through X11 forwarding), perch's local mode (xpra's client here,
// xpra's protocol through a streamlocal channel), and `xpra attach ssh://`
// with OpenSSH as the anchor. For each: start time to the window on the
// local screen; on the open link the bytes the link carried and the CPU of
// the thin client's and the server's processes over the run; on a link
// limited to 5 Mbit/s each way (tc tbf on both ends of the veth pair) the
// frames that reached the local screen per second and the time from a key
// pressed on the local screen to the animation seeing it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// quietXpra are the local xpra clients' options (the remote one reads the
// same from the bed's client defaults).
var quietXpra = []string{
	"--opengl=no", "--speaker=no", "--microphone=no", "--av-sync=no", "--tray=no", "--delay-tray=no",
	"--system-tray=no", "--notifications=no", "--webcam=no", "--printing=no", "--file-transfer=no",
	"--open-files=no", "--open-url=no", "--mdns=no", "--bell=no", "--mmap=no",
}

type localBed struct {
	dir    string
	local  *testbed.Display
	ns     *testbed.Netns
	sshd   *testbed.SSHD
	xpra   *testbed.Xpra
	keylog string
	cfg    string
	env    []string
	done   func() // stops it (see cleanOnInterrupt)
}

func startLocalBed(extra []string) (*localBed, error) {
	b := &localBed{}
	b.done = cleanOnInterrupt(b.shut)
	var err error
	if b.dir, err = os.MkdirTemp("", "perch-bench-xlocal-"); err != nil {
		return nil, err
	}
	anim := filepath.Join(b.dir, "animator")
	if out, err := exec.Command("go", "build", "-o", anim, "./scripts/bench/animator").CombinedOutput(); err != nil {
		b.close()
		return nil, fmt.Errorf("build the animator: %v\n%s", err, out)
	}
	b.keylog = filepath.Join(b.dir, "keys")
	steps := []func() error{
		func() (err error) {
			// No MIT-SHM: X clients on the server would otherwise hand
			// their images over in shared memory, which a real thin
			// client cannot offer.
			b.local, err = testbed.StartXvfb("1920x1080x24", "-extension", "MIT-SHM")
			return
		},
		func() (err error) { b.ns, err = testbed.NewNetns(); return },
		func() (err error) {
			b.sshd, err = testbed.StartSSHDWith(testbed.SSHDOptions{Netns: b.ns, Path: loginPath()})
			return
		},
		func() error { return b.sshd.WriteXpraClientDefaults() },
		func() (err error) {
			b.xpra, err = testbed.StartXpraWith(testbed.FreeDisplay(60), "env ANIM_KEYLOG="+b.keylog+" "+anim, xpraBinary())
			return
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			b.close()
			return nil, err
		}
	}
	quote := func(opts []string) string {
		var q []string
		for _, a := range opts {
			q = append(q, strconv.Quote(a))
		}
		return strings.Join(q, ", ")
	}
	b.cfg = filepath.Join(b.dir, "config.toml")
	conf := fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q
keepalive = "2s"
[profile.remote]
server = "bed"
displays = [%d]
xpra_args = [%s]
[[profile.remote.output]]
name = "screen"
[profile.local]
server = "bed"
displays = [%d]
client = "local"
xpra_args = [%s]
[[profile.local.output]]
name = "screen"
[profile.tuned]
server = "bed"
displays = [%d]
client = "local"
xpra_args = [%s]
[[profile.tuned.output]]
name = "screen"
`, b.sshd.HostAlias, b.sshd.SSHConfig, b.xpra.Display, quote(variantArgs()), b.xpra.Display, quote(quietXpra),
		b.xpra.Display, quote(append(slices.Clone(quietXpra), extra...)))
	if err := os.WriteFile(b.cfg, []byte(conf), 0o600); err != nil {
		b.close()
		return nil, err
	}
	b.env = append(os.Environ(), b.local.Env()...)
	return b, nil
}

func (b *localBed) close() { b.done() }

func (b *localBed) shut() {
	if b.xpra != nil {
		b.xpra.Close()
	}
	if b.sshd != nil {
		b.sshd.Close()
	}
	if b.ns != nil {
		_ = b.shape(false)
		b.ns.Close()
	}
	if b.local != nil {
		b.local.Close()
	}
	os.RemoveAll(b.dir)
}

// shape limits both directions of the veth pair to 5 Mbit/s, or lifts it.
func (b *localBed) shape(on bool) error {
	if on {
		return b.ns.Shape("5mbit")
	}
	return b.ns.Shape("")
}

// linkBytes is what crossed the veth pair so far, both ways.
func (b *localBed) linkBytes() int64 {
	var n int64
	for _, f := range []string{"rx_bytes", "tx_bytes"} {
		data, _ := os.ReadFile(filepath.Join("/sys/class/net", b.ns.HostDev, "statistics", f))
		v, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		n += v
	}
	return n
}

// animWindow finds the animation's window on the local screen (0: none).
func (b *localBed) animWindow() xproto.Window {
	c, err := b.local.Dial()
	if err != nil {
		return 0
	}
	defer c.Close()
	return testbed.AnimWindow(c.X())
}

func (b *localBed) waitWindow(present bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for (b.animWindow() != 0) != present {
		if time.Now().After(deadline) {
			return fmt.Errorf("animation window present=%v after %s", !present, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// localRun is one way's figures.
type localRun struct {
	name             string
	start            time.Duration
	bytes            int64
	clientCPU        time.Duration
	serverCPU        time.Duration
	fpsOpen, fpsSlow float64
	keys             []time.Duration
	keysLost         int
	limit, carried   int64 // perch's bandwidth limit at the end, and what the link carried then; -1: not perch
}

// measure runs one way: cmd shows the animation; it is stopped at the end.
// status, when set, is the command that prints perch's status as JSON.
func (b *localBed) measure(name string, cmd, status []string, dur time.Duration) (*localRun, error) {
	r := &localRun{name: name, limit: -1}
	if err := b.waitWindow(false, 30*time.Second); err != nil {
		return nil, err
	}
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Env = b.env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Getenv("BENCH_DEBUG") != "" {
		c.Stderr = os.Stderr
	}
	t0 := time.Now()
	if err := c.Start(); err != nil {
		return nil, err
	}
	stop := cleanOnInterrupt(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	defer func() {
		stop()
		_ = b.waitWindow(false, 30*time.Second)
	}()
	if err := b.waitWindow(true, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.start = time.Since(t0)
	win := b.animWindow()
	time.Sleep(3 * time.Second) // settle: the first full frames
	clientRoots := []int{c.Process.Pid, pidOf("Xvfb", b.local.XAuthority)}
	sshdPid, _ := strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(b.sshd.Dir, "sshd.pid"))))
	// The command line ends in NUL (a space here): ":4 " is not ":40".
	serverRoots := []int{sshdPid, pidOf("xpra start " + b.xpra.Name + " ")}
	by0, cc0, sc0 := b.linkBytes(), treeCPU(clientRoots), treeCPU(serverRoots)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	fps, err := b.frames(ctx, win)
	cancel()
	if err != nil {
		return nil, err
	}
	r.fpsOpen = fps
	r.bytes, r.clientCPU, r.serverCPU = b.linkBytes()-by0, treeCPU(clientRoots)-cc0, treeCPU(serverRoots)-sc0

	if err := b.shape(true); err != nil {
		return nil, err
	}
	defer b.shape(false)
	time.Sleep(3 * time.Second)
	ctx, cancel = context.WithTimeout(context.Background(), dur)
	defer cancel()
	fpsCh := make(chan error, 1)
	go func() {
		var err error
		r.fpsSlow, err = b.frames(ctx, win)
		fpsCh <- err
	}()
	if err := b.pressKeys(ctx, win, dur/12, r); err != nil {
		return nil, err
	}
	if err := <-fpsCh; err != nil {
		return nil, err
	}
	if status != nil {
		r.limit, r.carried = perchLimit(status)
	}
	return r, nil
}

// perchLimit reads the bandwidth limit perch set from its status (0: none).
func perchLimit(status []string) (limit, carried int64) {
	out, err := exec.Command(status[0], status[1:]...).Output()
	var st struct {
		Link struct {
			Limit   int64 `json:"xpra_bandwidth_limit_bps"`
			Carried int64 `json:"link_carried_bps"`
		} `json:"link"`
	}
	if err != nil || json.Unmarshal(out, &st) != nil {
		return -1, 0
	}
	return st.Link.Limit, st.Link.Carried
}

// pressKeys times a key press on the animation every gap until ctx ends.
func (b *localBed) pressKeys(ctx context.Context, win xproto.Window, gap time.Duration, r *localRun) error {
	for ctx.Err() == nil {
		if w := b.animWindow(); w != 0 {
			win = w // a restarted client's new window
		}
		d, err := b.keyLatency(win, 5*time.Second)
		switch {
		case errors.Is(err, errKeyTimeout):
			r.keysLost++
		case err != nil:
			return err
		default:
			r.keys = append(r.keys, d)
		}
		select {
		case <-ctx.Done():
		case <-time.After(gap):
		}
	}
	return nil
}

// benchLocal compares remote mode, local mode and xpra's own ssh://.
// extra are the xpra options (xpra_args) of the tuned rows, local mode
// and the anchor each measured with and without them.
func benchLocal(w *strings.Builder, perch string, dur time.Duration, extra []string) error {
	if err := testbed.NetnsSupported(); err != nil {
		return err
	}
	b, err := startLocalBed(extra)
	if err != nil {
		return err
	}
	defer b.close()
	up := func(profile string) []string {
		return []string{perch, "--config", b.cfg, "--display", b.local.Name, "up", profile, "--socket", filepath.Join(b.dir, profile+".sock")}
	}
	status := func(profile string) []string {
		return []string{perch, "status", "--json", "--socket", filepath.Join(b.dir, profile+".sock")}
	}
	anchor := func(opts ...string) []string {
		return append(append([]string{"xpra", "attach", fmt.Sprintf("ssh://%s/%d", b.sshd.HostAlias, b.xpra.Display),
			"--ssh=ssh -F " + b.sshd.SSHConfig}, quietXpra...), opts...)
	}
	tuned := " + " + strings.Join(extra, " ")
	var runs []*localRun
	for _, way := range []struct {
		name        string
		cmd, status []string
	}{
		{"perch remote (X11 forwarding)", up("remote"), nil},
		{"perch local", up("local"), status("local")},
		{"xpra attach ssh:// (OpenSSH)", anchor(), nil},
		{"perch local" + tuned, up("tuned"), status("tuned")},
		{"xpra attach ssh://" + tuned, anchor(extra...), nil},
	} {
		r, err := b.measure(way.name, way.cmd, way.status, dur)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "xlocal: %+v\n", *r)
		runs = append(runs, r)
	}
	fmt.Fprintf(w, "## The xpra client here or there: remote mode, local mode, `xpra attach ssh://`%s\n\n", variantNote())
	fmt.Fprintf(w, "A 640x480 window repainted 30 times a second (scripts/bench/animator) on an xpra server behind a\n"+
		"veth pair (sshd in a network namespace); the thin client is an Xvfb. Start: from the process start to the\n"+
		"window on the local screen. Bytes and CPU over %s on the open link (CPU: the tool's process tree and the\n"+
		"local Xvfb; the server's sshd tree and xpra server tree). Then the same %s on a 5 Mbit/s link (tc tbf\n"+
		"both ways): frames that reached the local screen per second (read from a frame counter drawn in\n"+
		"the window, polled every 5 ms), and key presses on the local window until the animation saw them\n"+
		"(median; lost = not seen within 5 s). Rows marked + OPTIONS add those xpra options\n(local mode: `xpra_args`); both xpra clients here otherwise run with xpra's defaults (no audio,\ntray, OpenGL or mmap). perch local without options starts with no limit and sets xpra's\n--bandwidth-limit itself when it finds its link full (sessions/bwlimit): the last column says\nwhether it did by the end of the 5 Mbit/s measurement (— : not perch's own limit). Finding the link\nfull and measuring it take about 6 s, then one restart of the local client; the 5 Mbit/s\nmeasurement starts 3 s after the drop and includes what is left of that. xpra's own adaptation\nvaries from run to run: in some runs the link never fills and perch sets nothing.\n\n", dur, dur)
	fmt.Fprintf(w, "| | start | link MB | thin client CPU | server CPU | fps open | fps 5 Mbit/s | key → app 5 Mbit/s | perch's limit |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		st := stats{samples: r.keys}
		key := "none seen"
		if len(r.keys) > 0 {
			key = ms(st.median())
		}
		if r.keysLost > 0 {
			key += fmt.Sprintf(" (%d lost)", r.keysLost)
		}
		limit := "—"
		switch {
		case r.limit > 0:
			limit = fmt.Sprintf("%.1f Mbit/s (link full at %.1f)", float64(r.limit)/1e6, float64(r.carried)/1e6)
		case r.limit == 0:
			limit = "none"
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %.1f s | %.1f s | %.1f | %.1f | %s | %s |\n", r.name, ms(r.start),
			float64(r.bytes)/1e6, r.clientCPU.Seconds(), r.serverCPU.Seconds(), r.fpsOpen, r.fpsSlow, key, limit)
	}
	fmt.Fprintln(w)
	for _, local := range []*localRun{runs[1], runs[3]} {
		ratio := float64(runs[0].bytes) / float64(max(local.bytes, 1))
		fmt.Fprintf(w, "%s: bytes remote ÷ local %.1f (goal ≥ 3: %s); live on 5 Mbit/s (≥ 10 fps): %s.\n",
			local.name, ratio, verdict(ratio >= 3), verdict(local.fpsSlow >= 10))
	}
	fmt.Fprintln(w)
	return nil
}
