package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

func (e *env) cmdOutputs(args []string) error {
	var g globals
	var asJSON bool
	fs := newFlagSet("outputs")
	g.add(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("outputs takes no arguments")
	}
	c, err := e.dial(&g)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Probe()
	if err != nil {
		return err
	}
	v := st.View()
	if asJSON {
		return writeJSON(e.stdout, v)
	}
	printOutputs(e.stdout, v)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printOutputs prints the screen in xrandr's manner, with fingerprints.
func printOutputs(w io.Writer, v xrandr.ScreenView) {
	fmt.Fprintf(w, "Screen: current %dx%d (%dmm x %dmm), minimum %dx%d, maximum %dx%d\n",
		v.Width, v.Height, v.MmWidth, v.MmHeight, v.MinWidth, v.MinHeight, v.MaxWidth, v.MaxHeight)
	for _, o := range v.Outputs {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", o.Name, o.Connection)
		if o.Primary {
			b.WriteString(" primary")
		}
		if o.On {
			fmt.Fprintf(&b, " %s+%d+%d %s", o.Mode, o.X, o.Y, o.Rotation)
		} else {
			b.WriteString(" off")
		}
		if len(o.Rotations) > 0 {
			fmt.Fprintf(&b, " (rotations: %s)", strings.Join(o.Rotations, " "))
		}
		if o.MmWidth > 0 {
			fmt.Fprintf(&b, " %dmm x %dmm", o.MmWidth, o.MmHeight)
		}
		if o.Fingerprint != "" {
			fmt.Fprintf(&b, " edid %s", o.Fingerprint)
		}
		fmt.Fprintln(w, b.String())
		// Group modes by size as xrandr does: "1920x1080  60.00*+  50.00".
		var line strings.Builder
		last := ""
		for _, m := range o.Modes {
			size := fmt.Sprintf("%dx%d", m.Width, m.Height)
			if size != last {
				if line.Len() > 0 {
					fmt.Fprintln(w, line.String())
					line.Reset()
				}
				fmt.Fprintf(&line, "   %-12s", size)
				last = size
			}
			mark := " "
			if m.Current {
				mark = "*"
			}
			pref := " "
			if m.Preferred {
				pref = "+"
			}
			fmt.Fprintf(&line, " %6.2f%s%s", m.Refresh, mark, pref)
		}
		if line.Len() > 0 {
			fmt.Fprintln(w, line.String())
		}
	}
}

// PlanView is the JSON form of a plan for --dry-run --json.
type PlanView struct {
	Profile   string        `json:"profile"`
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
	Crtc     uint32  `json:"crtc"`
	Changed  bool    `json:"changed"`
}

// PlanNewMode is a mode to add to an output (created from CVT if new).
type PlanNewMode struct {
	Output string `json:"output"`
	Mode   string `json:"mode"`
	Create bool   `json:"create"`
}

func planView(profile string, p *xrandr.Plan) PlanView {
	v := PlanView{
		Profile: profile, Unchanged: p.Unchanged(), Width: p.Width, Height: p.Height,
		MmWidth: p.MmWidth, MmHeight: p.MmHeight, Off: p.Off, Primary: p.PrimaryName, Xrandr: p.XrandrCommands(),
	}
	if v.Off == nil {
		v.Off = []string{}
	}
	for _, c := range p.Crtcs {
		v.Outputs = append(v.Outputs, PlanOutput{
			Name: c.OutputName, Mode: c.Mode.Name, Refresh: float64(int(c.Mode.Refresh()*100+0.5)) / 100,
			X: c.X, Y: c.Y, Width: c.Width, Height: c.Height, Rotation: c.Rotation.String(),
			Crtc: uint32(c.Crtc), Changed: c.Changed,
		})
	}
	for _, nm := range p.NewModes {
		v.NewModes = append(v.NewModes, PlanNewMode{Output: nm.OutputName, Mode: nm.Mode.Name, Create: nm.Create})
	}
	return v
}

func printPlan(w io.Writer, v PlanView) {
	fmt.Fprintf(w, "profile %s: screen %dx%d (%dmm x %dmm)\n", v.Profile, v.Width, v.Height, v.MmWidth, v.MmHeight)
	for _, o := range v.Outputs {
		mark := ""
		if o.Name == v.Primary {
			mark = " primary"
		}
		state := "unchanged"
		if o.Changed {
			state = "changes"
		}
		fmt.Fprintf(w, "  %-10s %s@%.2f at %d,%d rotated %s%s (CRTC 0x%x, %s)\n",
			o.Name, o.Mode, o.Refresh, o.X, o.Y, o.Rotation, mark, o.Crtc, state)
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
	fmt.Fprintln(w, "equivalent xrandr commands:")
	for _, c := range v.Xrandr {
		fmt.Fprintln(w, "  "+c)
	}
}

func (e *env) cmdLayoutApply(args []string) error {
	var g globals
	var dry, asJSON bool
	fs := newFlagSet("layout apply")
	g.add(fs)
	fs.BoolVar(&dry, "dry-run", false, "print the plan, change nothing")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("layout apply needs one PROFILE")
	}
	cfg, err := e.loadConfig(&g)
	if err != nil {
		return err
	}
	prof, err := cfg.Profile(pos[0])
	if err != nil {
		return err
	}
	c, err := e.dial(&g)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		return err
	}
	plan, err := xrandr.MakePlan(st, prof.Layout())
	if err != nil {
		return fmt.Errorf("profile %s (%s:%d): %w", prof.Name, cfg.Path, prof.Line, err)
	}
	v := planView(prof.Name, plan)
	if dry {
		if asJSON {
			return writeJSON(e.stdout, v)
		}
		printPlan(e.stdout, v)
		return nil
	}
	if err := xrandr.Apply(c, plan); err != nil {
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

func (e *env) cmdLayoutSave(args []string) error {
	var g globals
	var force bool
	fs := newFlagSet("layout save")
	g.add(fs)
	fs.BoolVar(&force, "force", false, "replace a profile of the same name")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("layout save needs one NAME")
	}
	c, err := e.dial(&g)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		return err
	}
	prof := ProfileFromState(pos[0], st)
	path := e.configPath(&g)
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
