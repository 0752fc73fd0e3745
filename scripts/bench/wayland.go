package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/perchdesk/perch/desktop"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/mutter"
	"github.com/perchdesk/perch/wlr"
	"github.com/perchdesk/perch/xrandr"
)

// The wlroots comparison: sway headless with custom modes; perch's
// profiles, wlr-randr's arguments and kanshi's profiles of the same
// layouts.
const (
	swayBenchConf = `output HEADLESS-1 mode --custom 1920x1080@60Hz
output HEADLESS-2 mode --custom 1280x1024@60Hz
output HEADLESS-3 mode --custom 1024x768@60Hz
`
	wlrProfiles = `[profile.a]
[[profile.a.output]]
name = "HEADLESS-1"
mode = "1920x1080@60"
[[profile.a.output]]
name = "HEADLESS-2"
mode = "1280x1024@60"
right-of = "HEADLESS-1"
[profile.b]
match = ["HEADLESS-1", "HEADLESS-2"]
[[profile.b.output]]
name = "HEADLESS-1"
mode = "1920x1080@60"
[[profile.b.output]]
name = "HEADLESS-2"
mode = "1280x1024@60"
left-of = "HEADLESS-1"
[profile.three]
match = ["HEADLESS-1", "HEADLESS-2", "HEADLESS-3"]
[[profile.three.output]]
name = "HEADLESS-1"
mode = "1920x1080@60"
[[profile.three.output]]
name = "HEADLESS-2"
mode = "1280x1024@60"
left-of = "HEADLESS-1"
[[profile.three.output]]
name = "HEADLESS-3"
mode = "1024x768@60"
below = "HEADLESS-1"
`
	// kanshi 1.3.1 refuses a mode its head does not list, and sway 1.7's
	// headless heads list none: its profiles give positions only (the
	// modes are sway's config's).
	kanshiConf = `profile b {
	output HEADLESS-1 enable position 1280,0
	output HEADLESS-2 enable position 0,0
}
profile three {
	output HEADLESS-1 enable position 1280,0
	output HEADLESS-2 enable position 0,0
	output HEADLESS-3 enable position 1280,1080
}
`
	swayA     = "HEADLESS-1 1920x1080+0+0, HEADLESS-2 1280x1024+1920+0"
	swayB     = "HEADLESS-1 1920x1080+1280+0, HEADLESS-2 1280x1024+0+0"
	swayThree = "HEADLESS-1 1920x1080+1280+0, HEADLESS-2 1280x1024+0+0, HEADLESS-3 1024x768+1280+1080"
)

var wlrRandrArgs = [2][]string{
	{"--output", "HEADLESS-1", "--on", "--custom-mode", "1920x1080@60Hz", "--pos", "0,0",
		"--output", "HEADLESS-2", "--on", "--custom-mode", "1280x1024@60Hz", "--pos", "1920,0"},
	{"--output", "HEADLESS-1", "--on", "--custom-mode", "1920x1080@60Hz", "--pos", "1280,0",
		"--output", "HEADLESS-2", "--on", "--custom-mode", "1280x1024@60Hz", "--pos", "0,0"},
}

// waylandBed is a compositor with an X display beside it (perch's
// sessions need one; XWayland in a real session), perch's configuration
// and the environment of a client of both.
type waylandBed struct {
	x    *testbed.Display
	dir  string
	cfg  string
	env  []string
	done func()
	stop []func()
}

func startWaylandBed(conf string) (*waylandBed, error) {
	x, err := testbed.StartXvfb("1024x768x24")
	if err != nil {
		return nil, err
	}
	b := &waylandBed{x: x, stop: []func(){func() { x.Close() }}}
	b.done = cleanOnInterrupt(b.shut)
	if b.dir, err = os.MkdirTemp("", "perch-bench-wl-"); err != nil {
		b.done()
		return nil, err
	}
	b.cfg = filepath.Join(b.dir, "config.toml")
	if err := os.WriteFile(b.cfg, []byte(conf), 0o600); err != nil {
		b.done()
		return nil, err
	}
	return b, nil
}

func (b *waylandBed) shut() {
	for i := len(b.stop) - 1; i >= 0; i-- {
		b.stop[i]()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// run runs a whole process in the bed's environment and times it.
func (b *waylandBed) run(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = b.env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return d, nil
}

// swayLayout is sway's account of its outputs.
func swayLayout(s *testbed.Sway) string {
	outs, err := s.Outputs()
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, o := range outs {
		parts = append(parts, fmt.Sprintf("%s %dx%d+%d+%d", o.Name, o.Rect.Width, o.Rect.Height, o.Rect.X, o.Rect.Y))
	}
	return strings.Join(parts, ", ")
}

// waitSway polls sway's outputs (every 5 ms) until they are want, and
// returns when that was seen.
func waitSway(s *testbed.Sway, want string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		got := swayLayout(s)
		if got == want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("sway shows %s, not %s, after %s", got, want, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchWlroots compares perch layout apply with wlr-randr, and perch up
// auto's reaction to a new output with kanshi's, on sway headless.
func benchWlroots(w *strings.Builder, n, runs int, perch string) error {
	b, err := startWaylandBed(wlrProfiles)
	if err != nil {
		return err
	}
	defer b.done()
	s, err := testbed.StartSway(2, swayBenchConf)
	if err != nil {
		return err
	}
	b.stop = append(b.stop, s.Close)
	b.env = append(append(os.Environ(), b.x.Env()...), s.Env()...)
	var p, a, v stats
	for i := 0; i < n; i++ {
		d, err := b.run(perch, "--version")
		if err != nil {
			return err
		}
		v.add(d)
		want := [2]string{swayA, swayB}[i%2]
		d, err = b.run(perch, "--config", b.cfg, "layout", "apply", []string{"a", "b"}[i%2])
		if err == nil && swayLayout(s) != want {
			err = fmt.Errorf("perch: sway shows %s, want %s", swayLayout(s), want)
		}
		if err != nil {
			return err
		}
		p.add(d)
		if d, err = b.run("wlr-randr", wlrRandrArgs[(i+1)%2]...); err != nil {
			return err
		}
		if got := swayLayout(s); got != [2]string{swayA, swayB}[(i+1)%2] {
			return fmt.Errorf("wlr-randr: sway shows %s", got)
		}
		a.add(d)
		// Put back the layout perch applied, so that perch changes the
		// layout on its next turn too.
		if _, err := b.run("wlr-randr", wlrRandrArgs[i%2]...); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "## Wayland layouts (wlroots): `perch layout apply` vs `wlr-randr`, `perch up auto` vs kanshi\n\n")
	fmt.Fprintf(w, "sway %s headless, two outputs with custom modes, switching between %s and %s; %d runs each,\n",
		"1.7", swayA, swayB, n)
	fmt.Fprintf(w, "whole processes.\n\n")
	fmt.Fprintf(w, "| work | perch median | wlr-randr median | ratio wlr-randr/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| change the layout | %s | %s | %.2f |\n", ms(p.median()), ms(a.median()), float64(a.median())/float64(p.median()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wb, err := wlr.Dial(ctx, s.Getenv)
	if err != nil {
		return err
	}
	in, err := inProcess(desktop.New(wb, nil), n, "HEADLESS-", nil)
	if err != nil {
		return err
	}
	// The last in-process apply (of an even count, the second layout) is
	// what sway shows.
	if got, want := swayLayout(s), "HEADLESS-1 1280x1024+1920+0, HEADLESS-2 1920x1080+0+0"; got != want && n%2 == 0 {
		return fmt.Errorf("in process: sway shows %s, want %s", got, want)
	}
	fmt.Fprintf(w, "| the same in perch's process (the agent's path: read, plan, test, apply) | %s | | |\n", ms(in.median()))
	fmt.Fprintf(w, "| `perch --version` (start-up alone, no display) | %s | | |\n\n", ms(v.median()))
	fmt.Fprintf(w, "Most of perch's time is the start of a Go program, not the protocol (the in-process row).\n\n")
	return benchReaction(w, b, runs, perch)
}

// benchReaction measures how long after `swaymsg create_output` the
// three-output layout is on screen, with perch up auto and with kanshi,
// each on a fresh sway, alternating.
func benchReaction(w *strings.Builder, b *waylandBed, runs int, perch string) error {
	kconf := filepath.Join(b.dir, "kanshi.conf")
	if err := os.WriteFile(kconf, []byte(kanshiConf), 0o644); err != nil {
		return err
	}
	var p, k stats
	for i := 0; i < runs; i++ {
		d, err := reaction(b, perch, "--config", b.cfg, "up", "auto", "--socket", filepath.Join(b.dir, "perch.sock"))
		if err != nil {
			return fmt.Errorf("perch up auto: %w", err)
		}
		p.add(d)
		if d, err = reaction(b, "kanshi", "-c", kconf); err != nil {
			return fmt.Errorf("kanshi: %w", err)
		}
		k.add(d)
	}
	fmt.Fprintf(w, "Reaction to a new output (`swaymsg create_output`, sway polled every 5 ms until the three-output\n")
	fmt.Fprintf(w, "layout is on screen), %d runs each on a fresh sway:\n\n", runs)
	fmt.Fprintf(w, "| work | perch up auto median | kanshi median | ratio kanshi/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| output plugged → layout applied | %s | %s | %.2f |\n\n", ms(p.median()), ms(k.median()), float64(k.median())/float64(p.median()))
	fmt.Fprintf(w, "perch waits for the outputs to settle for 1 s (its debounce, for docks that bring several\n")
	fmt.Fprintf(w, "monitors one after the other) before it picks a profile; kanshi applies on the first event.\n")
	fmt.Fprintf(w, "Without that second, perch's reaction is %s (ratio %.2f).\n\n", ms(p.median()-time.Second),
		float64(k.median())/float64(p.median()-time.Second))
	return nil
}

// reaction starts a fresh sway and the tool, waits for the tool's layout
// of two outputs (b: not sway's own), plugs an output and times until the
// three-output layout is on.
func reaction(b *waylandBed, name string, args ...string) (time.Duration, error) {
	s, err := testbed.StartSway(2, swayBenchConf)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = append(append(os.Environ(), b.x.Env()...), s.Env()...)
	logf, err := os.Create(filepath.Join(b.dir, filepath.Base(name)+".log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	if _, err := waitSway(s, swayB, 20*time.Second); err != nil {
		return 0, err
	}
	start := time.Now()
	if out, err := exec.Command("swaymsg", "-s", s.IPC, "create_output").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("create_output: %w %s", err, out)
	}
	seen, err := waitSway(s, swayThree, 20*time.Second)
	if err != nil {
		return 0, err
	}
	return seen.Sub(start), nil
}

// The GNOME comparison: two layouts of nested mutter's dummy monitors, as
// perch profiles and as ApplyMonitorsConfig's logical monitors.
const gnomeBenchProfiles = `[profile.a]
[[profile.a.output]]
name = "LVDS1"
mode = "1920x1080@60"
primary = true
[[profile.a.output]]
name = "LVDS2"
mode = "1280x1024@60"
right-of = "LVDS1"
[profile.b]
[[profile.b.output]]
name = "LVDS1"
mode = "1280x1024@60"
primary = true
[[profile.b.output]]
name = "LVDS2"
mode = "1920x1080@60"
left-of = "LVDS1"
`

var gnomeLogical = [2]string{
	"[(0, 0, 1.0, 0, true, [('LVDS1', '1920x1080@60.000', {})]), (1920, 0, 1.0, 0, false, [('LVDS2', '1280x1024@60.000', {})])]",
	"[(1920, 0, 1.0, 0, true, [('LVDS1', '1280x1024@60.000', {})]), (0, 0, 1.0, 0, false, [('LVDS2', '1920x1080@60.000', {})])]",
}

var serialRe = regexp.MustCompile(`^\(uint32 (\d+),`)

// gdbusApply is what a script does without perch: read the serial with
// GetCurrentState, then ApplyMonitorsConfig (temporary): two gdbus runs.
func gdbusApply(b *waylandBed, i int) (time.Duration, error) {
	base := []string{"call", "--session", "--dest", "org.gnome.Mutter.DisplayConfig", "--object-path", "/org/gnome/Mutter/DisplayConfig", "--method"}
	start := time.Now()
	cmd := exec.Command("gdbus", append(base, "org.gnome.Mutter.DisplayConfig.GetCurrentState")...)
	cmd.Env = b.env
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("gdbus GetCurrentState: %w", err)
	}
	m := serialRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("gdbus GetCurrentState: no serial in %.80s", out)
	}
	cmd = exec.Command("gdbus", append(base, "org.gnome.Mutter.DisplayConfig.ApplyMonitorsConfig", string(m[1]), "1", gnomeLogical[i], "{}")...)
	cmd.Env = b.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("gdbus ApplyMonitorsConfig: %w %s", err, out)
	}
	return time.Since(start), nil
}

// settle waits until Mutter is done with the last change: it repaints in
// software after each one and answers no call meanwhile, so a call that
// returns (twice: the first may slip in before the repaint starts) means
// it is idle again.
func settle(b *waylandBed) error {
	for i := 0; i < 2; i++ {
		if _, err := b.run("gdbus", "call", "--session", "--dest", "org.gnome.Mutter.DisplayConfig", "--object-path",
			"/org/gnome/Mutter/DisplayConfig", "--method", "org.gnome.Mutter.DisplayConfig.GetCurrentState"); err != nil {
			return err
		}
	}
	return nil
}

// benchGnome compares perch layout apply with gdbus on nested mutter.
func benchGnome(w *strings.Builder, n int, perch string) error {
	b, err := startWaylandBed(gnomeBenchProfiles)
	if err != nil {
		return err
	}
	defer b.done()
	m, err := testbed.StartMutter(testbed.MutterOptions{Monitors: 2, Modes: "1920x1080:1280x1024:1024x768"})
	if err != nil {
		return err
	}
	b.stop = append(b.stop, m.Close)
	b.env = append(os.Environ(), m.Env()...)
	var p, a stats
	for i := 0; i < n; i++ {
		if err := settle(b); err != nil {
			return err
		}
		d, err := b.run(perch, "--config", b.cfg, "layout", "apply", []string{"a", "b"}[i%2])
		if err != nil {
			return err
		}
		p.add(d)
		if err := settle(b); err != nil {
			return err
		}
		if d, err = gdbusApply(b, (i+1)%2); err != nil {
			return err
		}
		a.add(d)
		// Put back the layout perch applied, so that perch changes the
		// layout on its next turn too.
		if err := settle(b); err != nil {
			return err
		}
		if _, err := gdbusApply(b, i%2); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "## Wayland layouts (GNOME): `perch layout apply` vs `gdbus` calls to DisplayConfig\n\n")
	fmt.Fprintf(w, "mutter 43 nested (`--nested --wayland --no-x11`) with two dummy monitors, switching between two\n")
	fmt.Fprintf(w, "layouts (modes and sides swapped); %d runs each, whole processes. The anchor is what a script does\n", n)
	fmt.Fprintf(w, "without perch: `gdbus` GetCurrentState (for the serial) then ApplyMonitorsConfig (temporary);\n")
	fmt.Fprintf(w, "perch reads, plans, has Mutter verify, then applies. Debian 12 has no gnome-monitor-config.\n\n")
	fmt.Fprintf(w, "| work | perch median | gdbus median | ratio gdbus/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| change the layout | %s | %s | %.2f |\n", ms(p.median()), ms(a.median()), float64(a.median())/float64(p.median()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mb, err := mutter.DialBus(ctx, m.Bus.Addr)
	if err != nil {
		return err
	}
	in, err := inProcess(desktop.New(mb, nil), n, "LVDS", func() error { return settle(b) })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "| the same in perch's process (the agent's path: read, plan, verify, apply) | %s | | |\n\n", ms(in.median()))
	fmt.Fprintf(w, "Nested in Xvfb, Mutter repaints its monitors in software after each change and answers no call\n")
	fmt.Fprintf(w, "meanwhile (100-300 ms here): before each timed run the bench waits for it with an untimed\n")
	fmt.Fprintf(w, "GetCurrentState, so that both sides start on an idle Mutter. perch makes three calls\n")
	fmt.Fprintf(w, "(GetCurrentState, verify, temporary) where the anchor makes two; its verify is what keeps a\n")
	fmt.Fprintf(w, "refused layout from changing anything. The anchor's time is mostly two gdbus processes starting.\n\n")
	return nil
}

// inProcess alternates the two layouts n times through an open backend,
// as the agent applies them, and times each (not before, which is done
// before each).
func inProcess(d *desktop.Wayland, n int, prefix string, before func() error) (stats, error) {
	defer d.Close()
	var st stats
	layouts := [2]xrandr.Layout{
		{Outputs: []xrandr.OutputSpec{{Name: prefix + "1", Mode: "1920x1080@60"}, {Name: prefix + "2", Mode: "1280x1024@60", RightOf: prefix + "1"}}},
		{Outputs: []xrandr.OutputSpec{{Name: prefix + "1", Mode: "1280x1024@60"}, {Name: prefix + "2", Mode: "1920x1080@60", LeftOf: prefix + "1"}}},
	}
	for i := 0; len(st.samples) < n; i++ {
		if before != nil {
			if err := before(); err != nil {
				return st, err
			}
		}
		start := time.Now()
		p, err := d.Apply(layouts[i%2])
		if err != nil {
			return st, err
		}
		d := time.Since(start)
		if p.Unchanged() {
			if i == 0 { // the first may be what is on screen already
				continue
			}
			return st, fmt.Errorf("in-process apply %d changed nothing", i)
		}
		st.add(d)
	}
	return st, nil
}
