package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/desktop"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/xrandr"
)

func newLayoutSaveCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "save [--force] NAME",
		Short: "save the current layout as a profile",
		Long: `layout save writes the outputs that are on now (mode, position, rotation,
primary), matched by EDID fingerprint, as profile NAME into the
configuration file, keeping the rest of the file as it is.`,
		Args: oneArg("layout save needs one NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			return e.layoutSave(args[0], force)
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	c.Flags().BoolVar(&force, "force", false, "replace a profile of the same name")
	return c
}

// layoutSave saves the current layout as profile name.
func (e *env) layoutSave(name string, force bool) error {
	c, st, err := e.layoutState("layout save")
	if err != nil {
		return err
	}
	defer c.Close()
	prof := ProfileFromState(name, st)
	path := e.configPath()
	if err := config.SaveProfile(path, prof, force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "saved the current layout as profile %s in %s\n", prof.Name, path)
	return nil
}

// ProfileFromState describes the current layout as a profile: the outputs
// that are on, with their mode, position, rotation and primary, matched by
// EDID fingerprint where there is one.
func ProfileFromState(name string, st *xrandr.State) *config.Profile {
	p := &config.Profile{Name: name}
	for _, o := range st.Outputs {
		cr, ok := st.Crtc(o.Crtc)
		if o.Crtc == 0 || !ok || cr.Mode == 0 {
			continue
		}
		m, _ := st.Mode(cr.Mode)
		out := config.Output{Name: o.Name, Pos: fmt.Sprintf("%d,%d", cr.X, cr.Y), Primary: o.ID == st.Primary}
		if m != nil {
			out.Mode = m.Spec()
		}
		if r := cr.Rotation & 0xf; r != xrandr.RotateNormal {
			out.Rotate = r.String()
		}
		if !o.Connected {
			out.Force = true
		}
		p.Outputs = append(p.Outputs, out)
		if o.Connected {
			if o.Fingerprint != "" {
				p.Match = append(p.Match, o.Fingerprint)
			} else {
				p.Match = append(p.Match, o.Name)
			}
		}
	}
	return p
}

// layoutSession is the display the layout commands work on: RandR's, or
// a Wayland compositor's backend (wlroots, GNOME) when the session is
// Wayland.
type layoutSession struct {
	x       *xrandr.Conn     // nil when the compositor was reached without X
	wl      *desktop.Wayland // nil under RandR
	planned *desktop.Planned // the last plan, under Wayland
}

func (s *layoutSession) Close() {
	if s.wl != nil {
		s.wl.Close()
	}
	if s.x != nil {
		s.x.Close()
	}
}

// backend names what arranges the monitors: randr, wlroots or mutter.
func (s *layoutSession) backend() string {
	if s.wl != nil {
		return s.wl.Backend()
	}
	return desktop.RandR
}

// plan plans layout l on st.
func (s *layoutSession) plan(st *xrandr.State, l xrandr.Layout) (*xrandr.Plan, error) {
	if s.wl != nil {
		pl, err := s.wl.Plan(l)
		if err != nil {
			return nil, err
		}
		s.planned = pl
		return pl.Plan, nil
	}
	return xrandr.MakePlan(st, l)
}

// apply applies plan p (made by plan).
func (s *layoutSession) apply(p *xrandr.Plan) error {
	if s.wl != nil {
		return s.wl.ApplyPlanned(s.planned)
	}
	return xrandr.Apply(s.x, p)
}

// openLayout connects to the display and to the Wayland compositor's
// layout backend when the session is Wayland, and reads the outputs
// (probing them with probe). A Wayland session perch cannot arrange gives
// the X state and a *app.WaylandError.
func (e *env) openLayout(probe bool) (*layoutSession, *xrandr.State, error) {
	if e.getenv("WAYLAND_DISPLAY") != "" {
		// The compositor first: a Wayland session needs no X to arrange
		// its monitors.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		wl, err := desktop.Open(ctx, e.getenv, nil)
		cancel()
		if err == nil {
			st, err := wl.Current()
			if err != nil {
				wl.Close()
				return nil, nil, err
			}
			return &layoutSession{wl: wl}, st, nil
		}
	}
	c, err := e.dial()
	if err != nil {
		return nil, nil, err
	}
	s := &layoutSession{x: c}
	read := c.State
	if probe {
		read = c.Probe
	}
	st, err := read()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.wl, err = app.OpenWayland(ctx, e.getenv, st, nil)
	if err != nil {
		return s, st, err
	}
	if s.wl != nil {
		if st, err = s.wl.Current(); err != nil {
			s.Close()
			return nil, nil, err
		}
	}
	return s, st, nil
}

// layoutState opens the display for a layout command (named in the
// error) and reads its outputs, refusing a Wayland session whose
// compositor perch cannot arrange.
func (e *env) layoutState(command string) (*layoutSession, *xrandr.State, error) {
	s, st, err := e.openLayout(false)
	if err != nil {
		if s != nil {
			s.Close()
		}
		var we *app.WaylandError
		if errors.As(err, &we) {
			return nil, nil, fmt.Errorf("%s: %w", command, err)
		}
		return nil, nil, err
	}
	return s, st, nil
}
