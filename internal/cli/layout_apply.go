package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/desktop"
	"github.com/perchdesk/perch/xrandr"
)

// PlanView is the JSON form of a plan for --dry-run --json.
type PlanView struct {
	Profile   string        `json:"profile"`
	Backend   string        `json:"backend"` // randr, wlroots or mutter
	Unchanged bool          `json:"unchanged"`
	Width     int           `json:"width"`
	Height    int           `json:"height"`
	MmWidth   int           `json:"mm_width"`
	MmHeight  int           `json:"mm_height"`
	Outputs   []PlanOutput  `json:"outputs"`
	Off       []string      `json:"off"`
	Primary   string        `json:"primary,omitempty"`
	NewModes  []PlanNewMode `json:"new_modes,omitempty"`
	Xrandr    []string      `json:"xrandr"`
}

// PlanOutput is one output that will be on.
type PlanOutput struct {
	Name     string  `json:"name"`
	Mode     string  `json:"mode"`
	Refresh  float64 `json:"refresh"`
	X        int     `json:"x"`
	Y        int     `json:"y"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Rotation string  `json:"rotation"`
	Crtc     uint32  `json:"crtc,omitempty"` // RandR only
	Changed  bool    `json:"changed"`
}

// PlanNewMode is a mode to add to an output (created from CVT if new).
type PlanNewMode struct {
	Output string `json:"output"`
	Mode   string `json:"mode"`
	Create bool   `json:"create"`
}

func planView(profile, backend string, p *xrandr.Plan) PlanView {
	v := PlanView{
		Profile: profile, Backend: backend, Unchanged: p.Unchanged(), Width: p.Width, Height: p.Height,
		MmWidth: p.MmWidth, MmHeight: p.MmHeight, Off: p.Off, Primary: p.PrimaryName, Xrandr: []string{},
	}
	randr := backend == desktop.RandR
	if randr {
		v.Xrandr = p.XrandrCommands()
	}
	if v.Off == nil {
		v.Off = []string{}
	}
	for _, c := range p.Crtcs {
		v.Outputs = append(v.Outputs, PlanOutput{
			Name: c.OutputName, Mode: c.Mode.Name, Refresh: float64(int(c.Mode.Refresh()*100+0.5)) / 100,
			X: c.X, Y: c.Y, Width: c.Width, Height: c.Height, Rotation: c.Rotation.String(),
			Changed: c.Changed,
		})
		if randr {
			v.Outputs[len(v.Outputs)-1].Crtc = uint32(c.Crtc)
		}
	}
	for _, nm := range p.NewModes {
		v.NewModes = append(v.NewModes, PlanNewMode{Output: nm.OutputName, Mode: nm.Mode.Name, Create: nm.Create})
	}
	return v
}

func printPlan(w io.Writer, v PlanView) {
	if v.Backend == desktop.RandR {
		fmt.Fprintf(w, "profile %s: screen %dx%d (%dmm x %dmm)\n", v.Profile, v.Width, v.Height, v.MmWidth, v.MmHeight)
	} else {
		fmt.Fprintf(w, "profile %s through %s: layout %dx%d\n", v.Profile, v.Backend, v.Width, v.Height)
	}
	for _, o := range v.Outputs {
		mark := ""
		if o.Name == v.Primary {
			mark = " primary"
		}
		state := "unchanged"
		if o.Changed {
			state = "changes"
		}
		crtc := ""
		if o.Crtc != 0 {
			crtc = fmt.Sprintf("CRTC 0x%x, ", o.Crtc)
		}
		fmt.Fprintf(w, "  %-10s %s@%.2f at %d,%d rotated %s%s (%s%s)\n",
			o.Name, o.Mode, o.Refresh, o.X, o.Y, o.Rotation, mark, crtc, state)
	}
	for _, n := range v.Off {
		fmt.Fprintf(w, "  %-10s off\n", n)
	}
	for _, nm := range v.NewModes {
		verb := "add"
		if nm.Create {
			verb = "create (CVT) and add"
		}
		fmt.Fprintf(w, "  %s mode %s to %s\n", verb, nm.Mode, nm.Output)
	}
	if v.Unchanged {
		fmt.Fprintln(w, "nothing to change: this layout is already on screen")
	}
	if len(v.Xrandr) == 0 {
		return
	}
	fmt.Fprintln(w, "equivalent xrandr commands:")
	for _, c := range v.Xrandr {
		fmt.Fprintln(w, "  "+c)
	}
}

func newLayoutApplyCmd(e *env) *cobra.Command {
	var dry, asJSON bool
	c := &cobra.Command{
		Use:   "apply [--dry-run] [--json] PROFILE",
		Short: "arrange the outputs as a profile says",
		Long: `layout apply arranges the outputs as PROFILE says: on X11 in one RandR
change (modes made from CVT timings where the screen lacks them), on
wlroots and GNOME through the compositor (tested first, then applied).
With --dry-run it prints the plan (and under X11 the equivalent xrandr
commands) and changes nothing.`,
		Args: oneArg("layout apply needs one PROFILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			return e.layoutApply(args[0], dry, asJSON)
		},
		ValidArgsFunction: e.completeProfiles(false),
	}
	c.Flags().BoolVar(&dry, "dry-run", false, "print the plan, change nothing")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// layoutApply plans PROFILE on the screen and applies it (or prints the
// plan with dry).
func (e *env) layoutApply(profile string, dry, asJSON bool) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	prof, err := cfg.Profile(profile)
	if err != nil {
		return err
	}
	if prof.KeepsLayout() {
		// No RandR request at all, not even a read.
		if asJSON {
			return writeJSON(e.stdout, PlanView{Profile: prof.Name, Unchanged: true, Outputs: []PlanOutput{}, Off: []string{}, Xrandr: []string{}})
		}
		fmt.Fprintf(e.stdout, "profile %s lists no outputs: the layout is left as it is\n", prof.Name)
		return nil
	}
	c, st, err := e.layoutState("layout apply")
	if err != nil {
		return err
	}
	defer c.Close()
	plan, err := c.plan(st, prof.Layout())
	if err != nil {
		return fmt.Errorf("profile %s (%s:%d): %w", prof.Name, cfg.Path, prof.Line, err)
	}
	v := planView(prof.Name, c.backend(), plan)
	if c.backend() == desktop.Wlroots && plan.PrimaryName == "" && hasPrimary(prof.Layout()) {
		fmt.Fprintf(e.stderr, "note: primary is ignored: wlroots compositors have no primary output\n")
	}
	if dry {
		if asJSON {
			return writeJSON(e.stdout, v)
		}
		printPlan(e.stdout, v)
		return nil
	}
	if err := c.apply(plan); err != nil {
		return fmt.Errorf("apply profile %s: %w", prof.Name, err)
	}
	if asJSON {
		return writeJSON(e.stdout, v)
	}
	if v.Unchanged {
		fmt.Fprintf(e.stdout, "profile %s is already on screen: nothing changed\n", prof.Name)
		return nil
	}
	var parts []string
	for _, o := range v.Outputs {
		parts = append(parts, fmt.Sprintf("%s %s+%d+%d %s", o.Name, o.Mode, o.X, o.Y, o.Rotation))
	}
	fmt.Fprintf(e.stdout, "applied profile %s: %s; screen %dx%d\n", prof.Name, strings.Join(parts, ", "), v.Width, v.Height)
	return nil
}

func hasPrimary(l xrandr.Layout) bool {
	for _, o := range l.Outputs {
		if o.Primary {
			return true
		}
	}
	return false
}
