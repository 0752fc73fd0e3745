package xrandr

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/perchdesk/perch/layout"
)

// ErrLayout marks a layout that was refused before anything was touched:
// the user's input, not the X server, is at fault.
var ErrLayout = layout.ErrLayout

// LayoutError is a refusal of the planner, naming the output concerned.
type LayoutError = layout.LayoutError

func refuse(output, format string, args ...any) error {
	return layout.Refuse(output, format, args...)
}

// Layout is what a profile asks of the screen (layout.Layout).
type Layout = layout.Layout

// OutputSpec is one output of a Layout.
type OutputSpec = layout.OutputSpec

// Point is a position on the screen.
type Point = layout.Point

// ParsePos parses "X,Y" (xrandr's "XxY" is accepted too).
func ParsePos(s string) (Point, error) { return layout.ParsePos(s) }

// ModeRequest is a parsed mode string.
type ModeRequest = layout.ModeRequest

// ParseMode parses "preferred", "WxH" or "WxH@Hz".
func ParseMode(s string) (ModeRequest, error) { return layout.ParseMode(s) }

// Plan is what Apply sends: the whole target configuration and what differs
// from the state it was planned against.
type Plan struct {
	Width, Height     int
	MmWidth, MmHeight int
	Crtcs             []CrtcPlan // one per output that will be on, in layout order
	Disable           []CrtcID   // CRTCs on now that go off
	Off               []string   // outputs on now that go off
	Primary           OutputID   // 0: none
	PrimaryName       string
	NewModes          []NewMode // modes to create and/or add to an output first
	Before            *State    // the state the plan was made against
}

// CrtcPlan is one CRTC's target configuration.
type CrtcPlan struct {
	Crtc       CrtcID
	Output     OutputID
	OutputName string
	Mode       Mode // Mode.ID is 0 until a new mode is created
	X, Y       int
	Width      int // footprint on the screen, rotation applied
	Height     int
	Rotation   Rotation
	Changed    bool
}

// NewMode is a mode an output does not advertise yet.
type NewMode struct {
	Output     OutputID
	OutputName string
	Mode       Mode // ID 0 when Create
	Create     bool // not on the server at all: create it from CVT timings
}

// Unchanged reports whether the plan would send no change at all.
func (p *Plan) Unchanged() bool {
	if len(p.NewModes) > 0 || len(p.Disable) > 0 || p.sizeChanged() || p.primaryChanged() {
		return false
	}
	for _, c := range p.Crtcs {
		if c.Changed {
			return false
		}
	}
	return true
}

func (p *Plan) sizeChanged() bool {
	return p.Width != p.Before.Width || p.Height != p.Before.Height ||
		p.MmWidth != p.Before.MmWidth || p.MmHeight != p.Before.MmHeight
}

func (p *Plan) primaryChanged() bool { return p.Primary != p.Before.Primary }

// MakePlan computes the plan that turns state st into layout l. It is pure:
// it touches no X server. The checks and the placement are the shared
// planner's (layout.Arrange); MakePlan adds what RandR needs: the modes to
// add or create, the screen size and its limits, and the CRTCs. Every
// refusal is a *LayoutError (errors.Is ErrLayout).
func MakePlan(st *State, l Layout) (*Plan, error) {
	p := &Plan{Before: st}
	geos := map[string]geo{}
	arr, err := layout.Arrange(st.Heads(), l, func(sp *OutputSpec) (int, int, error) {
		o, _ := st.Output(sp.Name)
		m, nm, err := pickMode(st, o, sp.Mode)
		if err != nil {
			return 0, 0, err
		}
		if nm != nil {
			p.NewModes = append(p.NewModes, *nm)
		}
		geos[sp.Name] = geo{mode: m}
		return int(m.Width), int(m.Height), nil
	})
	if err != nil {
		return nil, err
	}
	outs := map[string]*Output{}
	for _, pl := range arr.Outputs {
		outs[pl.Spec.Name], _ = st.Output(pl.Spec.Name)
		g := geos[pl.Spec.Name]
		g.rot, g.w, g.h = pl.Rotation, pl.W, pl.H
		geos[pl.Spec.Name] = g
	}
	if err := p.screenSize(st, arr); err != nil {
		return nil, err
	}
	assigned, used, err := assignCrtcs(l, outs)
	if err != nil {
		return nil, err
	}
	for _, pl := range arr.Outputs {
		name := pl.Spec.Name
		cp, err := crtcPlan(st, outs[name], assigned[name], geos[name], Point{X: pl.X, Y: pl.Y})
		if err != nil {
			return nil, err
		}
		p.Crtcs = append(p.Crtcs, cp)
		if pl.Spec.Primary {
			p.Primary, p.PrimaryName = cp.Output, cp.OutputName
		}
	}
	for _, c := range st.Crtcs {
		if c.Mode != 0 && !used[c.ID] {
			p.Disable = append(p.Disable, c.ID)
		}
	}
	for _, o := range st.Outputs {
		if _, listed := outs[o.Name]; !listed && o.Crtc != 0 {
			if c, ok := st.Crtc(o.Crtc); ok && c.Mode != 0 {
				p.Off = append(p.Off, o.Name)
			}
		}
	}
	return p, nil
}

// geo is an output's mode, rotation and rotated footprint.
type geo struct {
	mode Mode
	rot  Rotation
	w, h int
}

// screenSize sets the screen size the placed outputs need, refusing one
// beyond the server's maximum.
func (p *Plan) screenSize(st *State, arr *layout.Arrangement) error {
	p.Width, p.Height = arr.Width, arr.Height
	if p.Width > st.MaxWidth || p.Height > st.MaxHeight {
		return refuse("", "the layout needs a %dx%d screen but this X server allows at most %dx%d; "+
			"raise Xorg's Virtual size in xorg.conf (Section \"Screen\", SubSection \"Display\", Virtual W H) to allow more",
			p.Width, p.Height, st.MaxWidth, st.MaxHeight)
	}
	p.Width = max(p.Width, st.MinWidth)
	p.Height = max(p.Height, st.MinHeight)
	p.MmWidth, p.MmHeight = physicalSize(st, p.Width, p.Height)
	return nil
}

// assignCrtcs keeps an output's current CRTC, else gives it the first free
// one it can use.
func assignCrtcs(l Layout, outs map[string]*Output) (map[string]CrtcID, map[CrtcID]bool, error) {
	assigned := map[string]CrtcID{}
	used := map[CrtcID]bool{}
	for _, sp := range l.Outputs {
		o := outs[sp.Name]
		if o.Crtc != 0 && slices.Contains(o.Crtcs, o.Crtc) && !used[o.Crtc] {
			assigned[sp.Name] = o.Crtc
			used[o.Crtc] = true
		}
	}
	for _, sp := range l.Outputs {
		if _, ok := assigned[sp.Name]; ok {
			continue
		}
		o := outs[sp.Name]
		for _, c := range o.Crtcs {
			if !used[c] {
				assigned[sp.Name] = c
				used[c] = true
				break
			}
		}
		if _, ok := assigned[sp.Name]; !ok {
			return nil, nil, refuse(sp.Name, "no free CRTC: the layout turns on %d outputs and this output can use only %d CRTCs, all taken by the others",
				len(l.Outputs), len(o.Crtcs))
		}
	}
	return assigned, used, nil
}

// crtcPlan is what CRTC cid shows for output o, and whether that changes.
func crtcPlan(st *State, o *Output, cid CrtcID, g geo, pt Point) (CrtcPlan, error) {
	cur, ok := st.Crtc(cid)
	if !ok {
		return CrtcPlan{}, refuse(o.Name, "its CRTC 0x%x is not on this screen", uint32(cid))
	}
	if cur.Rotations&g.rot == 0 {
		return CrtcPlan{}, refuse(o.Name, "rotation %s is not supported by its CRTC (it supports: %s)", g.rot, rotationNames(cur.Rotations))
	}
	cp := CrtcPlan{
		Crtc: cid, Output: o.ID, OutputName: o.Name, Mode: g.mode,
		X: pt.X, Y: pt.Y, Width: g.w, Height: g.h, Rotation: g.rot,
	}
	cp.Changed = g.mode.ID == 0 || cur.Mode != g.mode.ID || cur.X != pt.X || cur.Y != pt.Y ||
		cur.Rotation != g.rot || !slices.Equal(cur.Outputs, []OutputID{o.ID})
	return cp, nil
}

// pickMode finds the mode an output spec asks for. When the output does not
// advertise it, nm says which mode to add (or create from CVT timings).
func pickMode(st *State, o *Output, s string) (Mode, *NewMode, error) {
	req, err := ParseMode(s)
	if err != nil {
		return Mode{}, nil, refuse(o.Name, "%v", err)
	}
	if req.Preferred {
		if len(o.Modes) == 0 {
			return Mode{}, nil, refuse(o.Name, "advertises no modes, so it has no preferred one; give mode = \"WxH\"")
		}
		m, ok := st.Mode(o.Modes[0])
		if !ok {
			return Mode{}, nil, refuse(o.Name, "its mode 0x%x is unknown to the screen", uint32(o.Modes[0]))
		}
		return *m, nil, nil
	}
	var cands []layout.Mode
	var ids []*Mode
	for i, id := range o.Modes {
		if m, ok := st.Mode(id); ok {
			cands = append(cands, neutral(m, i < o.Preferred))
			ids = append(ids, m)
		}
	}
	if i := layout.PickMode(cands, req); i >= 0 {
		return *ids[i], nil, nil
	}
	fits := func(m *Mode) bool { return neutral(m, false).Fits(req) }
	var best *Mode
	// Not advertised by this output: a mode of the screen, else CVT.
	for i := range st.Modes {
		m := &st.Modes[i]
		if fits(m) && (best == nil || better(m, best, req.Refresh)) {
			best = m
		}
	}
	if best != nil {
		return *best, &NewMode{Output: o.ID, OutputName: o.Name, Mode: *best}, nil
	}
	ml, err := CVT(req.Width, req.Height, req.Refresh, false)
	if err != nil {
		return Mode{}, nil, refuse(o.Name, "cannot make mode %s: %v", s, err)
	}
	m := modeFromModeline(ml)
	// CVT may round the width (1366 becomes 1368): a mode made earlier is
	// found by its CVT name.
	for i := range st.Modes {
		if st.Modes[i].Name == m.Name {
			m = st.Modes[i]
			if slices.Contains(o.Modes, m.ID) {
				return m, nil, nil
			}
			return m, &NewMode{Output: o.ID, OutputName: o.Name, Mode: m}, nil
		}
	}
	return m, &NewMode{Output: o.ID, OutputName: o.Name, Mode: m, Create: true}, nil
}

// better reports whether a is a better choice than b for the wanted rate
// (0: the highest rate wins).
func better(a, b *Mode, want float64) bool { return layout.Better(a.Refresh(), b.Refresh(), want) }

// neutral is a RandR mode as the shared planner compares modes.
func neutral(m *Mode, preferred bool) layout.Mode {
	return layout.Mode{Width: int(m.Width), Height: int(m.Height), Refresh: m.Refresh(),
		Preferred: preferred, Interlaced: m.Flags&ModeInterlace != 0}
}

func modeFromModeline(ml Modeline) Mode {
	m := Mode{
		Name: ml.Name, Width: ml.HDisplay, Height: ml.VDisplay,
		DotClock:   uint32(math.Round(ml.Clock * 1e6)),
		HSyncStart: ml.HSyncStart, HSyncEnd: ml.HSyncEnd, HTotal: ml.HTotal,
		VSyncStart: ml.VSyncStart, VSyncEnd: ml.VSyncEnd, VTotal: ml.VTotal,
	}
	if ml.HSyncPositive {
		m.Flags |= ModeHSyncPositive
	} else {
		m.Flags |= ModeHSyncNegative
	}
	if ml.VSyncPositive {
		m.Flags |= ModeVSyncPositive
	} else {
		m.Flags |= ModeVSyncNegative
	}
	return m
}

// XrandrCommands returns the xrandr command lines that do what the plan
// does, for --dry-run and for people moving from a script.
func (p *Plan) XrandrCommands() []string {
	var cmds []string
	for _, nm := range p.NewModes {
		if nm.Create {
			m := nm.Mode
			hs, vs := "-hsync", "+vsync"
			if m.Flags&ModeHSyncPositive != 0 {
				hs = "+hsync"
			}
			if m.Flags&ModeVSyncNegative != 0 {
				vs = "-vsync"
			}
			cmds = append(cmds, fmt.Sprintf("xrandr --newmode %q %.2f %d %d %d %d %d %d %d %d %s %s",
				m.Name, float64(m.DotClock)/1e6, m.Width, m.HSyncStart, m.HSyncEnd, m.HTotal,
				m.Height, m.VSyncStart, m.VSyncEnd, m.VTotal, hs, vs))
		}
		cmds = append(cmds, fmt.Sprintf("xrandr --addmode %s %s", nm.OutputName, quoteArg(nm.Mode.Name)))
	}
	var b strings.Builder
	b.WriteString("xrandr")
	if p.Before != nil {
		fmt.Fprintf(&b, " --fb %dx%d", p.Width, p.Height)
	}
	for _, c := range p.Crtcs {
		fmt.Fprintf(&b, " --output %s --mode %s", c.OutputName, quoteArg(c.Mode.Name))
		if r := c.Mode.Refresh(); r > 0 {
			fmt.Fprintf(&b, " --rate %.2f", r)
		}
		fmt.Fprintf(&b, " --pos %dx%d --rotate %s", c.X, c.Y, c.Rotation)
		if c.Output == p.Primary {
			b.WriteString(" --primary")
		}
	}
	for _, n := range p.Off {
		fmt.Fprintf(&b, " --output %s --off", n)
	}
	if p.Primary == 0 {
		b.WriteString(" --noprimary")
	}
	return append(cmds, b.String())
}

func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}
