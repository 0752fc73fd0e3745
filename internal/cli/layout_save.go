package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
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

// layoutState connects to the display and reads its RandR state for a
// layout command (named in the error), refusing a display whose monitors
// RandR cannot arrange (Wayland).
func (e *env) layoutState(command string) (*xrandr.Conn, *xrandr.State, error) {
	c, err := e.dial()
	if err != nil {
		return nil, nil, err
	}
	st, err := c.State()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if err := app.CheckLayout(e.getenv, st); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("%s: %w", command, err)
	}
	return c, st, nil
}
