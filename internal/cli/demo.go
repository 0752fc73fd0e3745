package cli

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/internal/sandbox"
	"github.com/perchdesk/perch/internal/sys/xshot"
)

// demoConfig is the sandbox's configuration: a desk with two screens side
// by side (the dummy driver cannot rotate) and two remote displays.
const demoConfig = `# perch demo configuration (written by perch demo)
default = "desk"

[server.demo]
ssh = %q
ssh_config = %q
keepalive = "2s"

[profile.desk]
match = ["DUMMY0", "DUMMY1"]
server = "demo"
displays = [%d, %d]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1280x1024"
primary = true
[[profile.desk.output]]
name = "DUMMY1"
mode = "1024x768"
right-of = "DUMMY0"

[profile.sofa]
match = ["DUMMY0"]
server = "demo"
displays = [%d]
[[profile.sofa.output]]
name = "DUMMY0"
mode = "1024x768"
primary = true
`

func newDemoCmd(e *env) *cobra.Command {
	var keep time.Duration
	var shot string
	var lf logFlags
	c := &cobra.Command{
		Use:   "demo [--for DURATION] [--shot FILE]",
		Short: "run perch in a self-contained sandbox",
		Long: `demo runs perch's main job in a sandbox it makes itself: a virtual display
with two monitors (Xorg, dummy driver), a loopback sshd with throwaway keys
and two xpra servers with small X apps. It prints the status as the
sessions attach, writes a screenshot if asked, runs until Ctrl-C or --for,
then cleans everything up.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return e.demo(c.Context(), keep, shot, lf)
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	lf.add(c)
	c.Flags().DurationVar(&keep, "for", 0, "run this long, then clean up (default: until Ctrl-C)")
	c.Flags().StringVar(&shot, "shot", "", "write a PNG screenshot of the arranged display here")
	return c
}

// demo is perch demo.
func (e *env) demo(ctx context.Context, keep time.Duration, shot string, lf logFlags) error {
	// The flags are checked even when the log is not shown (-v).
	vlog, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if lf.verbose {
		log = vlog
	}
	say := func(format string, a ...any) { fmt.Fprintf(e.stdout, "demo: "+format+"\n", a...) }

	bed, err := startDemoBed(ctx, say)
	if err != nil {
		return err
	}
	defer bed.Close()
	dir, err := os.MkdirTemp("", "perch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(demoConfig, bed.sshd.HostAlias, bed.sshd.SSHConfig, bed.displays[0], bed.displays[1], bed.displays[0])
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	sock := filepath.Join(dir, "control.sock")
	// The demo's display is its own Xorg even in a Wayland session.
	noWayland := func(string) string { return "" }
	a, err := app.Assemble(app.Options{Config: cfg, Profile: "desk", Display: bed.x.Name, Socket: sock, Log: log, Getenv: noWayland})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	say("running the agent on profile desk (config %s)", cfgPath)
	say("while it runs, try: perch status --socket %s", sock)
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, nil) }()
	return e.watchDemo(ctx, cancel, a, bed, runErr, keep, shot, say)
}

// demoBed is what the demo starts: a display with two monitors, a loopback
// sshd and two xpra servers.
type demoBed struct {
	x        *sandbox.Display
	sshd     *sandbox.SSHD
	xpras    []*sandbox.Xpra
	displays []int
	apps     []string // the program each xpra server runs, by display
}

// startDemoBed starts the demo's servers; on failure it stops those it
// started.
func startDemoBed(ctx context.Context, say func(string, ...any)) (_ *demoBed, err error) {
	b := &demoBed{}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	say("starting a virtual display with two monitors (Xorg, dummy driver) ...")
	if b.x, err = sandbox.StartXorg(ctx, sandbox.XorgOptions{Connected: 2}); err != nil {
		return nil, fmt.Errorf("start the demo display (run `make deps` first): %w", err)
	}
	b.x.Setenv()
	say("starting a loopback sshd with throwaway keys ...")
	if b.sshd, err = sandbox.StartSSHD(ctx, sandbox.SSHDOptions{}); err != nil {
		return nil, fmt.Errorf("start the demo sshd (run `make deps` first): %w", err)
	}
	if err := b.sshd.WriteXpraClientDefaults(); err != nil {
		return nil, err
	}
	// One window on each monitor: xpra maps them where the apps ask.
	for i, app := range []string{"xeyes -geometry 400x300+1500+200", "xclock -update 1 -geometry 300x300+200+200"} {
		n := sandbox.FreeDisplay(60 + i)
		say("starting xpra server :%d with %s ...", n, app)
		xp, err := sandbox.StartXpra(ctx, n, app)
		if err != nil {
			return nil, fmt.Errorf("start the demo xpra server: %w", err)
		}
		b.xpras = append(b.xpras, xp)
		b.displays = append(b.displays, n)
		b.apps = append(b.apps, strings.Fields(app)[0])
	}
	return b, nil
}

// Close stops the demo's servers, the last started first.
func (b *demoBed) Close() {
	for i := len(b.xpras) - 1; i >= 0; i-- {
		b.xpras[i].Close()
	}
	if b.sshd != nil {
		b.sshd.Close()
	}
	if b.x != nil {
		b.x.Close()
	}
}

// watchDemo prints the status at every change until the agent ends (or
// keep passes), and takes the screenshot once every window is drawn.
func (e *env) watchDemo(ctx context.Context, cancel func(), a *app.Agent, bed *demoBed, runErr <-chan error, keep time.Duration, shot string, say func(string, ...any)) error {
	start := time.Now()
	var deadline <-chan time.Time
	if keep > 0 {
		deadline = time.After(keep)
	}
	shotDone := shot == ""
	attached := false
	last := ""
	for {
		select {
		case err := <-runErr:
			cancel()
			if err != nil {
				return err
			}
			say("stopped; cleaning up")
			return nil
		case <-deadline:
			say("%s passed; stopping", keep)
			cancel()
			deadline = nil
			continue
		case <-a.Changes():
		case <-time.After(500 * time.Millisecond):
		}
		st := a.Status()
		line := demoLine(st)
		if line != last {
			fmt.Fprintf(e.stdout, "  %6.2fs  %s\n", time.Since(start).Seconds(), line)
			last = line
		}
		if !attached && allAttached(st) {
			attached = true
			say("every session attached after %.2fs", time.Since(start).Seconds())
		}
		if attached && !shotDone && windowsDrawn(bed.x, len(bed.displays)) {
			shotDone = true
			if err := bed.takeShot(ctx, shot, a.Status()); err != nil {
				say("screenshot failed: %v", err)
			} else {
				say("screenshot of the arranged display written to %s", shot)
			}
		}
	}
}

func allAttached(st api.Status) bool {
	if st.Link == nil || st.Link.State != "up" || len(st.Sessions) == 0 {
		return false
	}
	for _, s := range st.Sessions {
		if s.State != "attached" {
			return false
		}
	}
	return true
}

func demoLine(st api.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s", st.Profile)
	if st.Link != nil {
		fmt.Fprintf(&b, " | link %s", st.Link.State)
	}
	for _, s := range st.Sessions {
		fmt.Fprintf(&b, " | %s %s", s.Name, s.State)
	}
	return b.String()
}

// windowsDrawn reports whether n remote windows are mapped on the display.
func windowsDrawn(x *sandbox.Display, n int) bool {
	names, err := x.WindowNames()
	if err != nil {
		return false
	}
	found := 0
	for _, nm := range names {
		if strings.Contains(nm, "xeyes") || strings.Contains(nm, "xclock") {
			found++
		}
	}
	return found >= n
}

// takeShot writes a screenshot once the remote windows are painted (each
// shows more than one colour and looks the same in two captures in a row:
// xpra sends a lossy picture first and refreshes it losslessly), with the
// arrangement drawn on it: each monitor's outline and caption.
func (b *demoBed) takeShot(ctx context.Context, path string, st api.Status) error {
	x := b.x
	c, err := x.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	var prev *image.RGBA
	for {
		img, err := xshot.Capture(c.X())
		if err != nil {
			return err
		}
		wins, err := x.Windows()
		if err != nil {
			return err
		}
		if prev != nil && painted(prev, img, wins) {
			if xshot.Colors(img, 16) < 3 {
				return errors.New("the screen is blank")
			}
			xshot.Annotate(img, shotOutlines(st.Screen))
			xshot.Labels(img, b.windowLabels(wins))
			return xshot.WritePNG(path, xshot.WithCaption(img, b.caption(st)))
		}
		if time.Now().After(deadline) {
			return errors.New("the remote windows were not painted within 20s")
		}
		prev = img
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// painted reports whether every demo window shows more than one colour in
// b and the same pixels in a.
func painted(a, b *image.RGBA, wins []sandbox.Window) bool {
	n := 0
	for _, w := range wins {
		if !strings.Contains(w.Name, "xeyes") && !strings.Contains(w.Name, "xclock") {
			continue
		}
		if xshot.ColorsIn(b, w.Rect, 2) < 2 || !xshot.Same(a, b, w.Rect) {
			return false
		}
		n++
	}
	return n > 0
}

// windowLabels name the remote session of each demo window (":60 xeyes"),
// in a box just above the window's top left corner, or inside it when the
// window is at the top of the screen.
func (b *demoBed) windowLabels(wins []sandbox.Window) []xshot.Label {
	var labels []xshot.Label
	for _, w := range wins {
		for i, app := range b.apps {
			if !strings.Contains(w.Name, app) {
				continue
			}
			text := fmt.Sprintf(":%d %s", b.displays[i], app)
			at := w.Rect.Min
			if _, h := xshot.CaptionSize([]string{text}, 2); at.Y >= h {
				at.Y -= h
			}
			labels = append(labels, xshot.Label{At: at, Text: text})
		}
	}
	return labels
}

// caption is the screenshot's one line: what it shows.
func (b *demoBed) caption(st api.Status) string {
	on := 0
	for _, o := range st.Screen.Outputs {
		if o.On {
			on++
		}
	}
	var sessions []string
	for i, app := range b.apps {
		sessions = append(sessions, fmt.Sprintf(":%d %s", b.displays[i], app))
	}
	return fmt.Sprintf("perch demo: profile %s arranged %d monitors; xpra sessions %s attached over one SSH link",
		st.Profile, on, strings.Join(sessions, " and "))
}

// shotOutlines are the monitors that are on, with their captions.
func shotOutlines(sc api.Screen) []xshot.Outline {
	var outs []xshot.Outline
	for _, o := range sc.Outputs {
		if !o.On || o.Width <= 0 || o.Height <= 0 {
			continue
		}
		mode := o.Mode
		if o.Refresh > 0 {
			mode += fmt.Sprintf(" @ %.0f Hz", o.Refresh)
		}
		lines := []string{o.Name, mode}
		if o.Primary {
			lines = append(lines, "primary")
		}
		outs = append(outs, xshot.Outline{Rect: image.Rect(o.X, o.Y, o.X+o.Width, o.Y+o.Height), Lines: lines, Primary: o.Primary})
	}
	return outs
}
