package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jezek/xgb/xproto"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/testrig/faultproxy"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// remoteBed is sshd, xpra servers and the local display for the session
// comparisons.
type remoteBed struct {
	remote *testbed.Remote
	local  *testbed.Display
	sshd   *testbed.SSHD
	xpras  []*testbed.Xpra
	dir    string
	cfg    string // perch configuration
	env    []string
}

func startRemote(displays int) (*remoteBed, error) {
	b := &remoteBed{}
	var err error
	if b.dir, err = os.MkdirTemp("", "perch-bench-remote-"); err != nil {
		return nil, err
	}
	if b.remote, err = testbed.StartRemote("1920x1080x24", displays, 40, "xeyes"); err != nil {
		b.close()
		return nil, err
	}
	b.local, b.sshd, b.xpras = b.remote.Local, b.remote.SSHD, b.remote.Xpras
	var ds []string
	for _, d := range b.remote.Displays() {
		ds = append(ds, strconv.Itoa(d))
	}
	b.cfg = filepath.Join(b.dir, "config.toml")
	conf := fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q
keepalive = "2s"

[profile.desk]
server = "bed"
displays = [%s]
[[profile.desk.output]]
name = "screen"
`, b.sshd.HostAlias, b.sshd.SSHConfig, strings.Join(ds, ", "))
	if err := os.WriteFile(b.cfg, []byte(conf), 0o600); err != nil {
		b.close()
		return nil, err
	}
	b.env = append(os.Environ(), b.local.Env()...)
	return b, nil
}

func (b *remoteBed) close() {
	if b.remote != nil {
		b.remote.Close()
	}
	os.RemoveAll(b.dir)
}

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

// windows counts top-level windows named like the remote app.
func (b *remoteBed) windows(name string) int {
	c, err := b.local.Dial()
	if err != nil {
		return -1
	}
	defer c.Close()
	x := c.X()
	root := xproto.Setup(x).DefaultScreen(x).Root
	tree, err := xproto.QueryTree(x, root).Reply()
	if err != nil {
		return -1
	}
	n := 0
	for _, ch := range tree.Children {
		p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err == nil && strings.Contains(string(p.Value), name) {
			n++
		}
	}
	return n
}

func (b *remoteBed) waitWindows(want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for b.windows("xeyes") != want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d xeyes windows after %s, want %d", b.windows("xeyes"), timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (b *remoteBed) waitNoAttach(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := testbed.ProcessCount("xpra attach :")
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d xpra attach still running", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

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
	fmt.Fprintf(w, "## Cold start to every window on screen: `perch up` vs the original way\n\n")
	fmt.Fprintf(w, "%d xpra displays running xeyes; from starting the process to %d xeyes windows mapped on the local\n"+
		"Xvfb; %d alternating runs each. The original way: `ssh -Y server '%s'`.\n\n", len(b.xpras), len(b.xpras), runs, script)
	fmt.Fprintf(w, "| | perch up | ssh -Y + xpra attach & | ratio ssh/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| median | %s | %s | %.2f |\n", ms(p.median()), ms(s.median()), float64(s.median())/float64(p.median()))
	fmt.Fprintf(w, "| best | %s | %s | %.2f |\n\n", ms(p.min()), ms(s.min()), float64(s.min())/float64(p.min()))
	return nil
}

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

// benchTray compares the RSS of perch-tray (its agent running the desk
// profile, every session attached) with a bare Fyne tray app, both
// registered with a StatusNotifierWatcher on a private session bus.
func benchTray(w *strings.Builder, b *remoteBed) error {
	dir, err := os.MkdirTemp("", "perch-bench-tray-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tray, bare := filepath.Join(dir, "perch-tray"), filepath.Join(dir, "baretray")
	for bin, pkg := range map[string]string{tray: "./cmd/perch-tray", bare: "./cmd/perch-tray/baretray"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	bus, err := testbed.StartSessionBus()
	if err != nil {
		return err
	}
	defer bus.Close()
	watcher, err := bus.StartWatcher()
	if err != nil {
		return err
	}
	defer watcher.Close()
	env := append(append([]string{}, b.env...), "DBUS_SESSION_BUS_ADDRESS="+bus.Addr)
	measure := func(ready func() error, args ...string) (int, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}()
		select {
		case <-watcher.Items:
		case <-time.After(30 * time.Second):
			return 0, fmt.Errorf("%s: no tray item registered within 30s", args[0])
		}
		if ready != nil {
			if err := ready(); err != nil {
				return 0, err
			}
		}
		time.Sleep(5 * time.Second) // settle
		_, rss, err := procStat(cmd.Process.Pid)
		return rss, err
	}
	bareRSS, err := measure(nil, bare)
	if err != nil {
		return err
	}
	trayRSS, err := measure(func() error { return b.waitWindows(len(b.xpras), 60*time.Second) },
		tray, "--config", b.cfg, "--display", b.local.Name, "--socket", filepath.Join(dir, "tray.sock"), "desk")
	if err != nil {
		return err
	}
	if err := b.waitNoAttach(30 * time.Second); err != nil {
		return err
	}
	fmt.Fprintf(w, "## perch-tray memory vs a bare Fyne tray app\n\n")
	fmt.Fprintf(w, "RSS 5 s after the tray item registered with a StatusNotifierWatcher on a private bus (Xvfb);\n"+
		"perch-tray runs its agent with %d xpra sessions attached. Neither shows a window: Fyne's tray makes\n"+
		"an OpenGL context for a hidden window of its own (GL driver, LLVM, shaders), perch-tray's tray makes\n"+
		"none until it shows its status window or a prompt.\n\n", len(b.xpras))
	fmt.Fprintf(w, "| perch-tray | bare Fyne tray | ratio |\n|---|---|---|\n")
	ratio := float64(trayRSS) / float64(bareRSS)
	fmt.Fprintf(w, "| %.1f MiB | %.1f MiB | %.2f |\n\n", float64(trayRSS)/1024, float64(bareRSS)/1024, ratio)
	fmt.Fprintf(w, "Target: at or below the bare app (%s).\n\n", verdict(ratio <= 1.00))
	return nil
}

// xeyesWindows returns the IDs of the top-level xeyes windows.
func (b *remoteBed) xeyesWindows() map[xproto.Window]bool {
	ids := map[xproto.Window]bool{}
	c, err := b.local.Dial()
	if err != nil {
		return ids
	}
	defer c.Close()
	x := c.X()
	tree, err := xproto.QueryTree(x, xproto.Setup(x).DefaultScreen(x).Root).Reply()
	if err != nil {
		return ids
	}
	for _, ch := range tree.Children {
		p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err == nil && strings.Contains(string(p.Value), "xeyes") {
			ids[ch] = true
		}
	}
	return ids
}

// recoverAfter injects a fault and returns the time from it until every
// display has a window again: first the windows must go (the tool saw
// the fault), then all of them must be back.
func (b *remoteBed) recoverAfter(fault func() error) (time.Duration, error) {
	start := time.Now()
	if err := fault(); err != nil {
		return 0, err
	}
	want := len(b.xpras)
	deadline := time.Now().Add(30 * time.Second)
	for len(b.xeyesWindows()) >= want {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the windows did not go 30 s after the fault")
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		n := len(b.xeyesWindows())
		if n >= want {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("only %d windows 90 s after the fault", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killServerSide kills the server-side sshd processes of every connection.
func (b *remoteBed) killServerSide() error {
	pids, err := b.sshd.ConnectionPIDs()
	if err != nil || len(pids) == 0 {
		return fmt.Errorf("no server-side connection to kill: %v", err)
	}
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	return nil
}

// proxiedSSHConfig writes an ssh_config for the bed's host that goes
// through proxy, with the keepalive OpenSSH is best set to
// (ServerAliveInterval 1, ServerAliveCountMax 3), and a known_hosts file
// that names the proxy's address. perch and ssh read the same file.
func (b *remoteBed) proxiedSSHConfig(proxy string) (string, error) {
	conf, err := os.ReadFile(b.sshd.SSHConfig)
	if err != nil {
		return "", err
	}
	kh, err := os.ReadFile(b.sshd.KnownHosts)
	if err != nil {
		return "", err
	}
	_, port, _ := net.SplitHostPort(proxy)
	khFile := filepath.Join(b.dir, "proxy_known_hosts")
	kh = []byte(strings.Replace(string(kh), knownhosts.Normalize(b.sshd.Addr), knownhosts.Normalize(proxy), 1))
	if err := os.WriteFile(khFile, kh, 0o600); err != nil {
		return "", err
	}
	c := strings.Replace(string(conf), fmt.Sprintf("\n  Port %d\n", b.sshd.Port), "\n  Port "+port+"\n", 1)
	c = strings.Replace(c, strconv.Quote(b.sshd.KnownHosts), strconv.Quote(khFile), 1)
	c += "  ServerAliveInterval 1\n  ServerAliveCountMax 3\n"
	if !strings.Contains(c, "Port "+port) || !strings.Contains(c, khFile) {
		return "", fmt.Errorf("cannot rewrite %s for the proxy", b.sshd.SSHConfig)
	}
	f := filepath.Join(b.dir, "proxy_ssh_config")
	return f, os.WriteFile(f, []byte(c), 0o600)
}

// benchRecovery compares recovery after a kill -9 of the server-side sshd
// and after a link freeze: perch up against autossh running the original
// ssh -Y script, both with the keepalive OpenSSH is best set to, both
// through the same TCP proxy, alternating round by round.
func benchRecovery(w *strings.Builder, b *remoteBed, perch string, runs int) error {
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	sshConfig, err := b.proxiedSSHConfig(proxy.Addr())
	if err != nil {
		return err
	}
	var attach, ds []string
	for _, x := range b.xpras {
		attach = append(attach, fmt.Sprintf("xpra attach :%d &", x.Display))
		ds = append(ds, strconv.Itoa(x.Display))
	}
	script := strings.Join(attach, " ") + " wait"
	// No keepalive key: perch takes ServerAliveInterval/CountMax from the
	// ssh_config, as ssh does.
	cfg := filepath.Join(b.dir, "recovery.toml")
	conf := fmt.Sprintf("[server.bed]\nssh = %q\nssh_config = %q\n\n[profile.desk]\nserver = \"bed\"\ndisplays = [%s]\n[[profile.desk.output]]\nname = \"screen\"\n",
		b.sshd.HostAlias, sshConfig, strings.Join(ds, ", "))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	tools := []struct {
		name string
		args []string
		env  []string
	}{
		{"perch up", []string{perch, "--config", cfg, "--display", b.local.Name, "up", "desk", "--socket", filepath.Join(b.dir, "rec.sock")}, nil},
		{"autossh", []string{"autossh", "-M", "0", "-F", sshConfig, "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3",
			"-Y", b.sshd.HostAlias, script}, []string{"AUTOSSH_GATETIME=0", "AUTOSSH_POLL=1"}},
	}
	faults := []struct {
		name string
		do   func() error
	}{
		{"kill", b.killServerSide},
		{"freeze", func() error { proxy.Blackhole(); return nil }},
	}
	res := map[string]*stats{}
	for range runs {
		for _, tool := range tools {
			if err := b.waitWindows(0, 30*time.Second); err != nil {
				return err
			}
			cmd := exec.Command(tool.args[0], tool.args[1:]...)
			cmd.Env = append(append([]string{}, b.env...), tool.env...)
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("%s: %w", tool.name, err)
			}
			err := func() error {
				if err := b.waitWindows(len(b.xpras), 60*time.Second); err != nil {
					return err
				}
				for _, f := range faults {
					time.Sleep(2 * time.Second) // settled
					d, err := b.recoverAfter(f.do)
					if err != nil {
						return fmt.Errorf("%s, %s: %w", tool.name, f.name, err)
					}
					k := tool.name + "/" + f.name
					if res[k] == nil {
						res[k] = &stats{}
					}
					res[k].add(d)
				}
				return nil
			}()
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			proxy.Cut() // the black-holed connections
			_ = b.waitNoAttach(30 * time.Second)
			if err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(w, "## Recovery after a kill and after a freeze: `perch up` vs autossh + `ssh -Y`\n\n")
	fmt.Fprintf(w, "%d xpra displays; from the fault to a new window of every display on the local Xvfb; %d rounds,\n"+
		"perch and autossh alternating, both through one TCP proxy to sshd and both with ServerAliveInterval 1 and\n"+
		"ServerAliveCountMax 3 in the ssh_config they share (perch reads them from there).\n"+
		"kill: `kill -9` of the server-side sshd processes. freeze: the proxy stops carrying the open\n"+
		"connection for good, without closing it (a NAT box that lost its state); new connections pass.\n"+
		"autossh: `autossh -M 0 -o ServerAliveInterval=1 -o ServerAliveCountMax=3 -Y server '%s'` (AUTOSSH_GATETIME=0).\n\n",
		len(b.xpras), runs, script)
	fmt.Fprintf(w, "| fault | perch up median | autossh median | ratio autossh/perch | perch best | autossh best |\n|---|---|---|---|---|---|\n")
	for _, f := range faults {
		p, a := res["perch up/"+f.name], res["autossh/"+f.name]
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %s |\n", f.name, ms(p.median()), ms(a.median()),
			float64(a.median())/float64(p.median()), ms(p.min()), ms(a.min()))
	}
	fmt.Fprintln(w)
	return nil
}
