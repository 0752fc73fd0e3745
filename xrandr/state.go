// Package xrandr reads, plans and applies display layouts through the X
// RandR extension, in-process over github.com/jezek/xgb: it never runs the
// xrandr program.
//
// The package has three layers. State is a snapshot of the screen (outputs,
// CRTCs, modes, screen size). Plan is a pure function from a State and a
// Layout (what the user wants) to a Plan (what to send), with every refusal
// decided before anything is touched. Apply sends a Plan through the small
// Server interface, in xrandr's order, changing only what differs and
// restoring the previous configuration when a step fails. Conn implements
// Server on a real X connection; tests use a recording fake.
package xrandr

import (
	"fmt"
	"slices"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/layout"
)

// Rotation is a RandR rotation bit (Rotate0, Rotate90, Rotate180,
// Rotate270), shared with the backend-neutral planner.
type Rotation = layout.Rotation

// RandR rotation and reflection bits.
const (
	RotateNormal   = layout.RotateNormal
	RotateLeft     = layout.RotateLeft // 90° counter-clockwise, as xrandr --rotate left
	RotateInverted = layout.RotateInverted
	RotateRight    = layout.RotateRight
	ReflectX       = layout.ReflectX
	ReflectY       = layout.ReflectY
)

// ParseRotation parses xrandr's rotation names; "" means normal.
func ParseRotation(s string) (Rotation, error) { return layout.ParseRotation(s) }

// rotationNames lists the rotations in a set, for messages.
func rotationNames(set Rotation) string { return set.Names() }

// ModeID, CrtcID and OutputID are RandR resource IDs.
type (
	ModeID   uint32
	CrtcID   uint32
	OutputID uint32
)

// Mode is one RandR mode with its timings.
type Mode struct {
	ID         ModeID
	Name       string
	Width      uint16
	Height     uint16
	DotClock   uint32 // Hz
	HSyncStart uint16
	HSyncEnd   uint16
	HTotal     uint16
	HSkew      uint16
	VSyncStart uint16
	VSyncEnd   uint16
	VTotal     uint16
	Flags      uint32
}

// RandR mode flags used here.
const (
	ModeHSyncPositive = 1 << 0
	ModeHSyncNegative = 1 << 1
	ModeVSyncPositive = 1 << 2
	ModeVSyncNegative = 1 << 3
	ModeInterlace     = 1 << 4
	ModeDoubleScan    = 1 << 5
)

// Refresh is the vertical refresh rate in Hz computed from the timings
// (0 when the timings are missing).
func (m Mode) Refresh() float64 {
	if m.HTotal == 0 || m.VTotal == 0 {
		return 0
	}
	v := float64(m.VTotal)
	if m.Flags&ModeDoubleScan != 0 {
		v *= 2
	}
	if m.Flags&ModeInterlace != 0 {
		v /= 2
	}
	return float64(m.DotClock) / (float64(m.HTotal) * v)
}

// Size returns "WxH".
func (m Mode) Size() string { return fmt.Sprintf("%dx%d", m.Width, m.Height) }

// Spec is the mode as a profile names it and ParseMode reads it back:
// "WxH@R" with the refresh to two decimals, or "WxH" (any refresh) when the
// server gives the mode no timings and so no rate (Xvfb's modes, some
// virtual outputs: 0 Hz).
func (m Mode) Spec() string {
	r := m.Refresh()
	if r < 0.005 {
		return m.Size()
	}
	return fmt.Sprintf("%s@%.2f", m.Size(), r)
}

// Crtc is a CRTC's current configuration.
type Crtc struct {
	ID        CrtcID
	X, Y      int
	Width     int // current extent on the screen (rotation applied), 0 when off
	Height    int
	Mode      ModeID // 0 when off
	Rotation  Rotation
	Rotations Rotation // the rotations this CRTC supports
	Outputs   []OutputID
	Possible  []OutputID
}

// Output is an output (connector) and its current state.
type Output struct {
	ID          OutputID
	Name        string
	Connected   bool
	Connection  string // connected, disconnected or unknown
	MmWidth     int
	MmHeight    int
	Crtc        CrtcID // 0 when off
	Crtcs       []CrtcID
	Clones      []OutputID
	Modes       []ModeID // advertised modes; the first Preferred of them are preferred
	Preferred   int
	Fingerprint string // short stable hash of the EDID property, "" without one
}

// State is a snapshot of a screen's RandR configuration.
type State struct {
	MinWidth, MinHeight int
	MaxWidth, MaxHeight int
	Width, Height       int // current screen size in pixels
	MmWidth, MmHeight   int // current screen size in millimetres
	Timestamp           uint32
	ConfigTimestamp     uint32
	Primary             OutputID
	Crtcs               []Crtc
	Outputs             []Output
	Modes               []Mode
}

// Output returns the output with that name.
func (s *State) Output(name string) (*Output, bool) {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return &s.Outputs[i], true
		}
	}
	return nil, false
}

// OutputByID returns the output with that ID.
func (s *State) OutputByID(id OutputID) (*Output, bool) {
	for i := range s.Outputs {
		if s.Outputs[i].ID == id {
			return &s.Outputs[i], true
		}
	}
	return nil, false
}

// Crtc returns the CRTC with that ID.
func (s *State) Crtc(id CrtcID) (*Crtc, bool) {
	for i := range s.Crtcs {
		if s.Crtcs[i].ID == id {
			return &s.Crtcs[i], true
		}
	}
	return nil, false
}

// Mode returns the mode with that ID.
func (s *State) Mode(id ModeID) (*Mode, bool) {
	for i := range s.Modes {
		if s.Modes[i].ID == id {
			return &s.Modes[i], true
		}
	}
	return nil, false
}

// OutputNames lists every output's name, in server order.
func (s *State) OutputNames() []string {
	names := make([]string, len(s.Outputs))
	for i, o := range s.Outputs {
		names[i] = o.Name
	}
	return names
}

// Connected lists the names and fingerprints of the connected outputs:
// what a profile's match list is compared with.
func (s *State) Connected() []string {
	var ids []string
	for _, o := range s.Outputs {
		if o.Connected {
			ids = append(ids, o.Name)
			if o.Fingerprint != "" {
				ids = append(ids, o.Fingerprint)
			}
		}
	}
	return ids
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := *s
	c.Crtcs = make([]Crtc, len(s.Crtcs))
	for i, cr := range s.Crtcs {
		cr.Outputs = slices.Clone(cr.Outputs)
		cr.Possible = slices.Clone(cr.Possible)
		c.Crtcs[i] = cr
	}
	c.Outputs = make([]Output, len(s.Outputs))
	for i, o := range s.Outputs {
		o.Crtcs = slices.Clone(o.Crtcs)
		o.Clones = slices.Clone(o.Clones)
		o.Modes = slices.Clone(o.Modes)
		c.Outputs[i] = o
	}
	c.Modes = slices.Clone(s.Modes)
	return &c
}

// ScreenView is the whole screen as shown to a user.
type ScreenView struct {
	// Backend is what arranges the outputs (randr, wlroots, mutter; none
	// when layouts are refused), set by the caller.
	Backend   string           `json:"backend,omitempty"`
	Width     int              `json:"width"`
	Height    int              `json:"height"`
	MmWidth   int              `json:"mm_width"`
	MmHeight  int              `json:"mm_height"`
	MinWidth  int              `json:"min_width"`
	MinHeight int              `json:"min_height"`
	MaxWidth  int              `json:"max_width"`
	MaxHeight int              `json:"max_height"`
	Outputs   []api.OutputView `json:"outputs"`
}

// View turns the state into its user-facing form.
func (s *State) View() ScreenView {
	v := ScreenView{
		Width: s.Width, Height: s.Height, MmWidth: s.MmWidth, MmHeight: s.MmHeight,
		MinWidth: s.MinWidth, MinHeight: s.MinHeight, MaxWidth: s.MaxWidth, MaxHeight: s.MaxHeight,
	}
	for _, o := range s.Outputs {
		ov := api.OutputView{
			Name: o.Name, Connection: o.Connection, Primary: o.ID == s.Primary && s.Primary != 0,
			Rotation: RotateNormal.String(), MmWidth: o.MmWidth, MmHeight: o.MmHeight,
			Fingerprint: o.Fingerprint,
		}
		var cur ModeID
		if c, ok := s.Crtc(o.Crtc); ok && o.Crtc != 0 && c.Mode != 0 {
			cur = c.Mode
			ov.On = true
			ov.X, ov.Y, ov.Width, ov.Height = c.X, c.Y, c.Width, c.Height
			ov.Rotation = c.Rotation.String()
			ov.Rotations = rotationList(c.Rotations)
			if m, ok := s.Mode(c.Mode); ok {
				ov.Mode = m.Size()
				ov.Refresh = round2(m.Refresh())
			}
		} else if len(o.Crtcs) > 0 {
			if c, ok := s.Crtc(o.Crtcs[0]); ok {
				ov.Rotations = rotationList(c.Rotations)
			}
		}
		for i, id := range o.Modes {
			m, ok := s.Mode(id)
			if !ok {
				continue
			}
			ov.Modes = append(ov.Modes, api.ModeView{
				Name: m.Name, Width: int(m.Width), Height: int(m.Height), Refresh: round2(m.Refresh()),
				Preferred: i < o.Preferred, Current: id == cur,
			})
		}
		v.Outputs = append(v.Outputs, ov)
	}
	return v
}

func rotationList(set Rotation) []string { return set.List() }

func round2(f float64) float64 {
	return float64(int(f*100+0.5)) / 100
}

// Heads lists the outputs as the shared planner sees them.
func (s *State) Heads() []layout.Head {
	hs := make([]layout.Head, len(s.Outputs))
	for i, o := range s.Outputs {
		hs[i] = layout.Head{Name: o.Name, Connected: o.Connected, Connection: o.Connection}
	}
	return hs
}
