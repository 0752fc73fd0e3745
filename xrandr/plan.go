package xrandr

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrLayout marks a layout that was refused before anything was touched:
// the user's input, not the X server, is at fault.
var ErrLayout = errors.New("layout refused")

// LayoutError is a refusal of the planner, naming the output concerned.
type LayoutError struct {
	Output string // may be empty for screen-wide refusals
	Msg    string
}

func (e *LayoutError) Error() string {
	if e.Output == "" {
		return e.Msg
	}
	return "output " + e.Output + ": " + e.Msg
}

// Is lets errors.Is(err, ErrLayout) match every planner refusal.
func (e *LayoutError) Is(target error) bool { return target == ErrLayout }

func refuse(output, format string, args ...any) error {
	return &LayoutError{Output: output, Msg: fmt.Sprintf(format, args...)}
}

// Layout is what a profile asks of the screen: the outputs to use. Every
// output it does not list is turned off.
type Layout struct {
	Outputs []OutputSpec
}

// OutputSpec is one output of a Layout.
type OutputSpec struct {
	Name    string
	Mode    string // "" or "preferred", "WxH", "WxH@Hz"
	Primary bool
	Rotate  Rotation // 0 means normal
	RightOf string
	LeftOf  string
	Above   string
	Below   string
	Pos     *Point // absolute position, before the final shift to 0,0
	Force   bool   // use even though it reports disconnected
}

// Point is a position on the screen.
type Point struct{ X, Y int }

// ParsePos parses "X,Y" (xrandr's "XxY" is accepted too).
func ParsePos(s string) (Point, error) {
	sep := strings.IndexAny(s, ",x")
	if sep < 0 {
		return Point{}, fmt.Errorf("position %q: want \"X,Y\"", s)
	}
	x, err1 := strconv.Atoi(strings.TrimSpace(s[:sep]))
	y, err2 := strconv.Atoi(strings.TrimSpace(s[sep+1:]))
	if err1 != nil || err2 != nil || x < -32768 || y < -32768 || x > 32767 || y > 32767 {
		return Point{}, fmt.Errorf("position %q: want \"X,Y\" with whole numbers", s)
	}
	return Point{x, y}, nil
}

// ModeRequest is a parsed mode string.
type ModeRequest struct {
	Preferred     bool
	Width, Height int
	Refresh       float64 // 0: any
}

// ParseMode parses "preferred", "WxH" or "WxH@Hz".
func ParseMode(s string) (ModeRequest, error) {
	if s == "" || s == "preferred" {
		return ModeRequest{Preferred: true}, nil
	}
	size, rate, hasRate := strings.Cut(s, "@")
	ws, hs, ok := strings.Cut(size, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 32767 || h > 32767 {
		return ModeRequest{}, fmt.Errorf("mode %q: want \"preferred\", \"WxH\" or \"WxH@Hz\"", s)
	}
	req := ModeRequest{Width: w, Height: h}
	if hasRate {
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || r <= 0 || r > 1000 || math.IsNaN(r) {
			return ModeRequest{}, fmt.Errorf("mode %q: refresh %q is not a rate in Hz", s, rate)
		}
		req.Refresh = r
	}
	return req, nil
}

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
// it touches no X server. Every refusal is a *LayoutError (errors.Is
// ErrLayout).
func MakePlan(st *State, l Layout) (*Plan, error) {
	specs, outs, err := checkSpecs(st, l)
	if err != nil {
		return nil, err
	}
	p := &Plan{Before: st}
	geos, err := p.footprints(st, l, outs)
	if err != nil {
		return nil, err
	}
	// Placement, as xrandr's set_positions.
	pos, err := place(st, l, specs, func(n string) (int, int) { return geos[n].w, geos[n].h })
	if err != nil {
		return nil, err
	}
	if err := p.screenSize(st, l, geos, pos); err != nil {
		return nil, err
	}
	assigned, used, err := assignCrtcs(l, outs)
	if err != nil {
		return nil, err
	}
	for _, sp := range l.Outputs {
		cp, err := crtcPlan(st, outs[sp.Name], assigned[sp.Name], geos[sp.Name], pos[sp.Name])
		if err != nil {
			return nil, err
		}
		p.Crtcs = append(p.Crtcs, cp)
		if sp.Primary {
			p.Primary, p.PrimaryName = cp.Output, cp.OutputName
		}
	}
	for _, c := range st.Crtcs {
		if c.Mode != 0 && !used[c.ID] {
			p.Disable = append(p.Disable, c.ID)
		}
	}
	for _, o := range st.Outputs {
		if _, listed := specs[o.Name]; !listed && o.Crtc != 0 {
			if c, ok := st.Crtc(o.Crtc); ok && c.Mode != 0 {
				p.Off = append(p.Off, o.Name)
			}
		}
	}
	return p, nil
}

// checkSpecs refuses unknown, duplicate and disconnected outputs and more
// than one primary, and indexes the layout's outputs by name.
func checkSpecs(st *State, l Layout) (map[string]*OutputSpec, map[string]*Output, error) {
	if len(l.Outputs) == 0 {
		return nil, nil, refuse("", "the layout lists no outputs: at least one must stay on")
	}
	specs := map[string]*OutputSpec{}
	outs := map[string]*Output{}
	primaries := 0
	for i := range l.Outputs {
		sp := &l.Outputs[i]
		o, ok := st.Output(sp.Name)
		if !ok {
			return nil, nil, refuse(sp.Name, "no such output (this screen has %s)", strings.Join(st.OutputNames(), ", "))
		}
		if _, dup := specs[sp.Name]; dup {
			return nil, nil, refuse(sp.Name, "listed twice")
		}
		if !o.Connected && !sp.Force {
			return nil, nil, refuse(sp.Name, "is %s; set force = true to use it anyway", o.Connection)
		}
		if sp.Primary {
			primaries++
		}
		specs[sp.Name] = sp
		outs[sp.Name] = o
	}
	if primaries > 1 {
		return nil, nil, refuse("", "more than one output is marked primary")
	}
	return specs, outs, nil
}

// geo is an output's mode, rotation and rotated footprint.
type geo struct {
	mode Mode
	rot  Rotation
	w, h int
}

// footprints picks each output's mode (recording modes to add in p) and
// its footprint after rotation.
func (p *Plan) footprints(st *State, l Layout, outs map[string]*Output) (map[string]geo, error) {
	geos := map[string]geo{}
	for _, sp := range l.Outputs {
		m, nm, err := pickMode(st, outs[sp.Name], sp.Mode)
		if err != nil {
			return nil, err
		}
		if nm != nil {
			p.NewModes = append(p.NewModes, *nm)
		}
		rot := sp.Rotate
		if rot == 0 {
			rot = RotateNormal
		}
		w, h := int(m.Width), int(m.Height)
		if rot.Swaps() {
			w, h = h, w
		}
		geos[sp.Name] = geo{m, rot, w, h}
	}
	return geos, nil
}

// screenSize sets the screen size the placed outputs need, refusing one
// beyond the server's maximum.
func (p *Plan) screenSize(st *State, l Layout, geos map[string]geo, pos map[string]Point) error {
	for _, sp := range l.Outputs {
		g, pt := geos[sp.Name], pos[sp.Name]
		p.Width = max(p.Width, pt.X+g.w)
		p.Height = max(p.Height, pt.Y+g.h)
	}
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
	fits := func(m *Mode) bool {
		if int(m.Width) != req.Width || int(m.Height) != req.Height || m.Flags&ModeInterlace != 0 {
			return false
		}
		return req.Refresh == 0 || math.Abs(m.Refresh()-req.Refresh) < 0.5
	}
	var best *Mode
	for i, id := range o.Modes {
		m, ok := st.Mode(id)
		if !ok || !fits(m) {
			continue
		}
		if i < o.Preferred && req.Refresh == 0 {
			return *m, nil, nil
		}
		if best == nil || better(m, best, req.Refresh) {
			best = m
		}
	}
	if best != nil {
		return *best, nil, nil
	}
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
func better(a, b *Mode, want float64) bool {
	if want == 0 {
		return a.Refresh() > b.Refresh()+0.001
	}
	return math.Abs(a.Refresh()-want) < math.Abs(b.Refresh()-want)
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
