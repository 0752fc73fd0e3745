package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// Screen is the state of a Wayland compositor's outputs as its backend
// read it (RandR keeps its own, richer xrandr.State).
type Screen struct {
	Backend string // "wlroots" or "mutter", for messages
	Outputs []Output
	// CustomModes: the compositor takes a mode it does not list (wlroots'
	// custom modes); else a profile may only name a listed mode.
	CustomModes bool
	// Physical: positions are in physical pixels, not divided by the scale
	// (Mutter's physical layout mode).
	Physical bool
	// Serial is the compositor's number for this state (Mutter's), which an
	// apply must quote back.
	Serial uint32
}

// Output is one output of a Screen.
type Output struct {
	Name                string
	Make, Model, Serial string
	Description         string
	Enabled             bool
	Modes               []Mode
	Current             int // index into Modes; -1 when off or on a custom mode
	CurrentMode         Mode
	X, Y                int
	Rotation            Rotation
	Rotations           Rotation // supported; 0 means all four
	Scale               float64  // 0 means 1
	Primary             bool
	MmWidth, MmHeight   int
}

// Fingerprint identifies a monitor by make, model and serial, as EDID
// fingerprints do under X11: the first 8 bytes of their SHA-256, in hex
// ("" when make and model are unknown). Without a serial, two monitors of
// one model would be one: the connector's name stands in for it.
func (o *Output) Fingerprint() string {
	if o.Make == "" && o.Model == "" {
		return ""
	}
	serial := o.Serial
	if serial == "" {
		serial = "port " + o.Name
	}
	sum := sha256.Sum256([]byte(o.Make + "\n" + o.Model + "\n" + serial))
	return hex.EncodeToString(sum[:8])
}

// ScaleOr1 is the output's scale, 1 when unknown.
func (o *Output) ScaleOr1() float64 {
	if o.Scale <= 0 {
		return 1
	}
	return o.Scale
}

// Output returns the output with that name.
func (s *Screen) Output(name string) (*Output, bool) {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return &s.Outputs[i], true
		}
	}
	return nil, false
}

// Set is what one output that stays or goes on is set to.
type Set struct {
	Name     string
	Mode     Mode
	Custom   bool // a mode the output does not list (Screen.CustomModes)
	X, Y     int
	W, H     int // footprint in the compositor's layout, rotated and scaled
	Rotation Rotation
	Scale    float64
	Primary  bool
	Changed  bool
}

// Target is the whole configuration a Wayland backend applies.
type Target struct {
	On            []Set    // in layout order
	Off           []string // outputs on now that go off
	Width, Height int      // bounding box of the outputs that are on
	Before        *Screen
}

// Unchanged reports whether the target is what is on screen already.
func (t *Target) Unchanged() bool {
	if len(t.Off) > 0 {
		return false
	}
	for _, s := range t.On {
		if s.Changed {
			return false
		}
	}
	return true
}

// Plan is the shared planner for Wayland backends: it picks each output's
// mode among those it lists (or a custom one where the compositor takes
// it), checks the rotation, keeps each output's scale, and places the
// outputs with Arrange in the compositor's layout coordinates. Primary is
// kept in the target for the backend to use or ignore. Every refusal is a
// *LayoutError.
func Plan(sc *Screen, l Layout) (*Target, error) {
	heads := make([]Head, len(sc.Outputs))
	for i, o := range sc.Outputs {
		heads[i] = Head{Name: o.Name, Connected: true, Connection: "connected"}
	}
	sets := map[string]*Set{}
	arr, err := Arrange(heads, l, func(sp *OutputSpec) (int, int, error) {
		o, _ := sc.Output(sp.Name)
		s, err := pickSet(sc, o, sp)
		if err != nil {
			return 0, 0, err
		}
		sets[sp.Name] = s
		scale := 1.0
		if !sc.Physical {
			scale = s.Scale
		}
		return int(math.Round(float64(s.Mode.Width) / scale)), int(math.Round(float64(s.Mode.Height) / scale)), nil
	})
	if err != nil {
		return nil, err
	}
	t := &Target{Width: arr.Width, Height: arr.Height, Before: sc}
	for _, pl := range arr.Outputs {
		s := sets[pl.Spec.Name]
		s.X, s.Y, s.W, s.H, s.Rotation, s.Primary = pl.X, pl.Y, pl.W, pl.H, pl.Rotation, pl.Spec.Primary
		o, _ := sc.Output(s.Name)
		rot := o.Rotation & 0xf
		if rot == 0 {
			rot = RotateNormal
		}
		s.Changed = !o.Enabled || s.Custom || o.Current < 0 || o.Modes[o.Current] != s.Mode ||
			o.X != s.X || o.Y != s.Y || rot != s.Rotation || s.Primary && !o.Primary
		t.On = append(t.On, *s)
	}
	for _, o := range sc.Outputs {
		if _, on := sets[o.Name]; !on && o.Enabled {
			t.Off = append(t.Off, o.Name)
		}
	}
	return t, nil
}

// pickSet chooses an output's mode and checks its rotation.
func pickSet(sc *Screen, o *Output, sp *OutputSpec) (*Set, error) {
	req, err := ParseMode(sp.Mode)
	if err != nil {
		return nil, Refuse(o.Name, "%v", err)
	}
	s := &Set{Name: o.Name, Scale: o.ScaleOr1()}
	switch i := PickMode(o.Modes, req); {
	case i >= 0:
		s.Mode = o.Modes[i]
	case req.Preferred:
		return nil, Refuse(o.Name, "lists no modes, so it has no preferred one; give mode = \"WxH\"")
	case sc.CustomModes:
		s.Mode, s.Custom = Mode{Width: req.Width, Height: req.Height, Refresh: req.Refresh}, true
	default:
		return nil, Refuse(o.Name, "has no mode %s (it has %s), and %s takes only the modes an output lists",
			sp.Mode, modeList(o.Modes), sc.Backend)
	}
	rot := sp.Rotate
	if rot == 0 {
		rot = RotateNormal
	}
	if o.Rotations != 0 && o.Rotations&rot == 0 {
		return nil, Refuse(o.Name, "rotation %s is not supported (it supports: %s)", rot, o.Rotations.Names())
	}
	return s, nil
}

func modeList(ms []Mode) string {
	if len(ms) == 0 {
		return "none"
	}
	var s string
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.String()
	}
	return s
}

// String is the mode as a profile names it: "WxH@R" (two decimals), or
// "WxH" without a known rate.
func (m Mode) String() string {
	if m.Refresh < 0.005 {
		return fmt.Sprintf("%dx%d", m.Width, m.Height)
	}
	return fmt.Sprintf("%dx%d@%.2f", m.Width, m.Height, m.Refresh)
}
