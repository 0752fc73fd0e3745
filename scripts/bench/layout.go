package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// layoutConf is perch's configuration of the two layouts; layoutXrandr
// are the same two as xrandr arguments.
const layoutConf = `[profile.a]
[[profile.a.output]]
name = "DUMMY0"
mode = "1280x1024@60"
primary = true
[[profile.a.output]]
name = "DUMMY1"
mode = "1024x768@60"
right-of = "DUMMY0"
[profile.b]
[[profile.b.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
[[profile.b.output]]
name = "DUMMY1"
mode = "1280x1024@60"
left-of = "DUMMY0"
`

var layoutXrandr = [2][]string{
	{"--output", "DUMMY0", "--mode", "1280x1024", "--rate", "60.02", "--pos", "0x0", "--primary",
		"--output", "DUMMY1", "--mode", "1024x768", "--rate", "60.00", "--pos", "1280x0"},
	{"--output", "DUMMY0", "--mode", "1024x768", "--rate", "60.00", "--pos", "1280x0", "--primary",
		"--output", "DUMMY1", "--mode", "1280x1024", "--rate", "60.02", "--pos", "0x0"},
}

// layoutBed is an Xorg dummy server with two outputs and perch's
// configuration of layouts a and b.
type layoutBed struct {
	x     *testbed.Display
	dir   string
	cfg   string
	env   []string
	perch string
	done  func() // stops it (see cleanOnInterrupt)
}

func startLayoutBed(perch string) (*layoutBed, error) {
	x, err := testbed.StartXorg(testbed.XorgOptions{Connected: 2})
	if err != nil {
		return nil, err
	}
	l := &layoutBed{x: x, perch: perch, env: append(os.Environ(), x.Env()...)}
	l.done = cleanOnInterrupt(l.shut)
	if l.dir, err = os.MkdirTemp("", "perch-bench-"); err != nil {
		l.close()
		return nil, err
	}
	l.cfg = filepath.Join(l.dir, "config.toml")
	if err := os.WriteFile(l.cfg, []byte(layoutConf), 0o600); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *layoutBed) close() { l.done() }

func (l *layoutBed) shut() {
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
	l.x.Close()
}

// run runs a whole process and returns how long it took.
func (l *layoutBed) run(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = l.env
	start := time.Now()
	outb, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, outb)
	}
	return d, nil
}

func (l *layoutBed) apply(profile string) (time.Duration, error) {
	return l.run(l.perch, "--config", l.cfg, "layout", "apply", profile)
}

func (l *layoutBed) xrandr(i int) (time.Duration, error) { return l.run("xrandr", layoutXrandr[i]...) }

// layout describes the outputs that are on, or the error reading them.
func (l *layoutBed) layout() string {
	c, err := l.x.Dial()
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, o := range st.View().Outputs {
		if o.On {
			parts = append(parts, fmt.Sprintf("%s %s+%d+%d", o.Name, o.Mode, o.X, o.Y))
		}
	}
	return strings.Join(parts, ", ")
}

// stamp is the server's configuration timestamp, 0 if unreadable.
func (l *layoutBed) stamp() uint32 {
	c, err := l.x.Dial()
	if err != nil {
		return 0
	}
	defer c.Close()
	st, _ := c.State()
	if st == nil {
		return 0
	}
	return st.Timestamp
}

// same checks that both tools produce the same two layouts and returns
// them.
func (l *layoutBed) same() (la, lb string, err error) {
	if _, err := l.apply("a"); err != nil {
		return "", "", err
	}
	la = l.layout()
	if _, err := l.xrandr(1); err != nil {
		return "", "", err
	}
	lb = l.layout()
	if _, err := l.xrandr(0); err != nil {
		return "", "", err
	}
	if got := l.layout(); got != la {
		return "", "", fmt.Errorf("xrandr's layout a (%s) differs from perch's (%s)", got, la)
	}
	if _, err := l.apply("b"); err != nil {
		return "", "", err
	}
	if got := l.layout(); got != lb {
		return "", "", fmt.Errorf("perch's layout b (%s) differs from xrandr's (%s)", got, lb)
	}
	return la, lb, nil
}

// change alternates perch and xrandr, each changing the layout every turn.
func (l *layoutBed) change(n int) (p, a stats, err error) {
	for i := 0; i < n; i++ {
		d, err := l.apply([]string{"a", "b"}[i%2])
		if err != nil {
			return p, a, err
		}
		p.add(d)
		if d, err = l.xrandr((i + 1) % 2); err != nil {
			return p, a, err
		}
		a.add(d)
		// The screen now shows the layout perch applied before; put it
		// back so perch changes the layout on its next turn too.
		if _, err := l.xrandr(i % 2); err != nil {
			return p, a, err
		}
	}
	return p, a, nil
}

// reapply applies the layout already on screen n times with each tool and
// says whether the server's configuration timestamp moved.
func (l *layoutBed) reapply(n int) (p, a stats, perchMoved, xrandrMoved bool, err error) {
	if _, err := l.apply("a"); err != nil {
		return p, a, false, false, err
	}
	t0 := l.stamp()
	for i := 0; i < n; i++ {
		d, err := l.apply("a")
		if err != nil {
			return p, a, false, false, err
		}
		p.add(d)
	}
	perchMoved = l.stamp() != t0
	t1 := l.stamp()
	for i := 0; i < n; i++ {
		d, err := l.xrandr(0)
		if err != nil {
			return p, a, false, false, err
		}
		a.add(d)
	}
	xrandrMoved = l.stamp() != t1
	return p, a, perchMoved, xrandrMoved, nil
}

// benchLayout alternates `perch layout apply` and the xrandr program between
// the same two layouts on an Xorg dummy server.
func benchLayout(w *strings.Builder, n int, perch string) error {
	l, err := startLayoutBed(perch)
	if err != nil {
		return err
	}
	defer l.close()
	la, lb, err := l.same()
	if err != nil {
		return err
	}
	p, a, err := l.change(n)
	if err != nil {
		return err
	}
	pu, au, perchMoved, xrandrMoved, err := l.reapply(n)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Layout apply: `perch layout apply` vs the `xrandr` program\n\n")
	fmt.Fprintf(w, "Xorg dummy, two outputs, switching between layout a (%s) and b (%s); %d runs each,\n", la, lb, n)
	fmt.Fprintf(w, "whole processes (start, connect, read, plan, apply, exit).\n\n")
	fmt.Fprintf(w, "| work | perch median | xrandr median | ratio xrandr/perch |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| change the layout | %s | %s | %.2f |\n", ms(p.median()), ms(a.median()), float64(a.median())/float64(p.median()))
	fmt.Fprintf(w, "| re-apply the layout on screen | %s | %s | %.2f |\n\n", ms(pu.median()), ms(au.median()), float64(au.median())/float64(pu.median()))
	fmt.Fprintf(w, "Re-applying the layout already on screen %d times: the server's configuration timestamp moved with perch: **%v**; with xrandr: **%v**.\n\n",
		n, perchMoved, xrandrMoved)
	return goBenchApply(w)
}

// goBenchApply adds the in-process Go benchmark of ./xrandr's Apply.
func goBenchApply(w *strings.Builder) error {
	fmt.Fprintf(w, "In-process (Go benchmark, `go test -run '^$' -bench Apply ./xrandr`): see below.\n\n")
	gb, err := exec.Command("go", "test", "-run", "^$", "-bench", "Apply", "-benchtime", "300x", "./xrandr").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go benchmark: %w\n%s", err, gb)
	}
	fmt.Fprintf(w, "```\n")
	for _, line := range strings.Split(string(gb), "\n") {
		if strings.HasPrefix(line, "Benchmark") {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "```\n\n")
	return nil
}
