package layout

import (
	"math"
	"strings"
)

// Head is what the planner needs to know of one output of the screen.
type Head struct {
	Name       string
	Connected  bool
	Connection string // connected, disconnected or unknown: for messages
}

// Placed is one output that the arrangement turns on.
type Placed struct {
	Spec     *OutputSpec
	X, Y     int // top left corner, the whole layout shifted to 0,0
	W, H     int // footprint: the mode's size, rotated
	Rotation Rotation
}

// Arrangement is where a layout puts its outputs.
type Arrangement struct {
	Outputs       []Placed // in layout order
	Width, Height int      // the bounding box of them all
	Primary       string   // "" when none is primary
}

// Find returns the placed output of that name.
func (a *Arrangement) Find(name string) (*Placed, bool) {
	for i := range a.Outputs {
		if a.Outputs[i].Spec.Name == name {
			return &a.Outputs[i], true
		}
	}
	return nil, false
}

// SizeFunc gives the size an output will have before rotation (picking its
// mode, which the backend remembers), or a refusal.
type SizeFunc func(sp *OutputSpec) (w, h int, err error)

// Arrange checks layout l against the screen's heads, sizes each output
// with size and places it as xrandr does: relative placement, rotated
// footprints, then everything shifted so the smallest x and y are 0. It is
// pure; every refusal is a *LayoutError (errors.Is ErrLayout).
func Arrange(heads []Head, l Layout, size SizeFunc) (*Arrangement, error) {
	specs, err := checkSpecs(heads, l)
	if err != nil {
		return nil, err
	}
	a := &Arrangement{}
	foot := map[string][2]int{}
	for i := range l.Outputs {
		sp := &l.Outputs[i]
		w, h, err := size(sp)
		if err != nil {
			return nil, err
		}
		rot := sp.Rotate
		if rot == 0 {
			rot = RotateNormal
		}
		if rot.Swaps() {
			w, h = h, w
		}
		foot[sp.Name] = [2]int{w, h}
		a.Outputs = append(a.Outputs, Placed{Spec: sp, W: w, H: h, Rotation: rot})
		if sp.Primary {
			a.Primary = sp.Name
		}
	}
	pos, err := place(heads, l, specs, func(n string) (int, int) { return foot[n][0], foot[n][1] })
	if err != nil {
		return nil, err
	}
	for i := range a.Outputs {
		p := &a.Outputs[i]
		pt := pos[p.Spec.Name]
		p.X, p.Y = pt.X, pt.Y
		a.Width = max(a.Width, p.X+p.W)
		a.Height = max(a.Height, p.Y+p.H)
	}
	return a, nil
}

func headNames(heads []Head) string {
	names := make([]string, len(heads))
	for i, h := range heads {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

func findHead(heads []Head, name string) (*Head, bool) {
	for i := range heads {
		if heads[i].Name == name {
			return &heads[i], true
		}
	}
	return nil, false
}

// checkSpecs refuses an empty layout, unknown, duplicate and disconnected
// outputs and more than one primary, and indexes the layout by name.
func checkSpecs(heads []Head, l Layout) (map[string]*OutputSpec, error) {
	if len(l.Outputs) == 0 {
		return nil, Refuse("", "the layout lists no outputs: at least one must stay on")
	}
	specs := map[string]*OutputSpec{}
	primaries := 0
	for i := range l.Outputs {
		sp := &l.Outputs[i]
		h, ok := findHead(heads, sp.Name)
		if !ok {
			return nil, Refuse(sp.Name, "no such output (this screen has %s)", headNames(heads))
		}
		if _, dup := specs[sp.Name]; dup {
			return nil, Refuse(sp.Name, "listed twice")
		}
		if !h.Connected && !sp.Force {
			return nil, Refuse(sp.Name, "is %s; set force = true to use it anyway", h.Connection)
		}
		if sp.Primary {
			primaries++
		}
		specs[sp.Name] = sp
	}
	if primaries > 1 {
		return nil, Refuse("", "more than one output is marked primary")
	}
	return specs, nil
}

// place resolves absolute and relative positions as xrandr does, then
// shifts everything so the smallest x and y are 0.
func place(heads []Head, l Layout, specs map[string]*OutputSpec, size func(string) (int, int)) (map[string]Point, error) {
	pos := map[string]Point{}
	for _, sp := range l.Outputs {
		ref, kind := relation(sp)
		if ref == "" {
			if sp.Pos != nil {
				pos[sp.Name] = *sp.Pos
			} else {
				pos[sp.Name] = Point{}
			}
			continue
		}
		if ref == sp.Name {
			return nil, Refuse(sp.Name, "is placed %s itself", kind)
		}
		if _, ok := specs[ref]; !ok {
			if _, exists := findHead(heads, ref); exists {
				return nil, Refuse(sp.Name, "is placed %s %s, which this layout turns off", kind, ref)
			}
			return nil, Refuse(sp.Name, "is placed %s %s, which is no output of this screen (it has %s)",
				kind, ref, headNames(heads))
		}
	}
	if err := resolve(l, pos, size); err != nil {
		return nil, err
	}
	minX, minY := math.MaxInt, math.MaxInt
	for _, pt := range pos {
		minX, minY = min(minX, pt.X), min(minY, pt.Y)
	}
	for n, pt := range pos {
		pos[n] = Point{pt.X - minX, pt.Y - minY}
	}
	return pos, nil
}

// resolve places the relative outputs once their reference is placed,
// pass after pass; a pass with no progress is a loop.
func resolve(l Layout, pos map[string]Point, size func(string) (int, int)) error {
	for {
		progress, pending := false, []string(nil)
		for _, sp := range l.Outputs {
			if _, done := pos[sp.Name]; done {
				continue
			}
			ref, kind := relation(sp)
			rp, ok := pos[ref]
			if !ok {
				pending = append(pending, sp.Name)
				continue
			}
			w, h := size(sp.Name)
			rw, rh := size(ref)
			switch kind {
			case "right-of":
				pos[sp.Name] = Point{rp.X + rw, rp.Y}
			case "left-of":
				pos[sp.Name] = Point{rp.X - w, rp.Y}
			case "above":
				pos[sp.Name] = Point{rp.X, rp.Y - h}
			case "below":
				pos[sp.Name] = Point{rp.X, rp.Y + rh}
			}
			progress = true
		}
		if len(pending) == 0 {
			return nil
		}
		if !progress {
			return Refuse("", "placement loop: %s are placed relative to each other and none has a fixed position",
				strings.Join(pending, ", "))
		}
	}
}

func relation(sp OutputSpec) (ref, kind string) {
	switch {
	case sp.RightOf != "":
		return sp.RightOf, "right-of"
	case sp.LeftOf != "":
		return sp.LeftOf, "left-of"
	case sp.Above != "":
		return sp.Above, "above"
	case sp.Below != "":
		return sp.Below, "below"
	}
	return "", ""
}
