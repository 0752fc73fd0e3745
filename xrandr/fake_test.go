package xrandr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Test fixtures: a screen like a thin client's, with HDMI1, HDMI2 and eDP1.
const (
	m1080 ModeID = 0x50 + iota
	m1080_50
	m768
	m1200
)

func testModes() []Mode {
	return []Mode{
		{ID: m1080, Name: "1920x1080", Width: 1920, Height: 1080, DotClock: 148500000, HTotal: 2200, VTotal: 1125},
		{ID: m1080_50, Name: "1920x1080", Width: 1920, Height: 1080, DotClock: 148500000, HTotal: 2640, VTotal: 1125},
		{ID: m768, Name: "1024x768", Width: 1024, Height: 768, DotClock: 65000000, HTotal: 1344, VTotal: 806},
		{ID: m1200, Name: "1600x1200", Width: 1600, Height: 1200, DotClock: 162000000, HTotal: 2160, VTotal: 1250},
	}
}

type fakeOut struct {
	name      string
	connected bool
	modes     []ModeID
	preferred int
}

// testState builds a screen with the given outputs, ncrtc CRTCs usable by
// every output and supporting the rotations rots, everything off.
func testState(ncrtc int, rots Rotation, outs ...fakeOut) *State {
	st := &State{MinWidth: 320, MinHeight: 200, MaxWidth: 8192, MaxHeight: 8192,
		Width: 1024, Height: 768, MmWidth: 271, MmHeight: 203, Modes: testModes()}
	var crtcs []CrtcID
	for i := range ncrtc {
		crtcs = append(crtcs, CrtcID(0x40+i))
		st.Crtcs = append(st.Crtcs, Crtc{ID: CrtcID(0x40 + i), Rotation: RotateNormal, Rotations: rots})
	}
	for i, o := range outs {
		conn := "disconnected"
		if o.connected {
			conn = "connected"
		}
		st.Outputs = append(st.Outputs, Output{ID: OutputID(0x60 + i), Name: o.name, Connected: o.connected,
			Connection: conn, Crtcs: slices.Clone(crtcs), Modes: o.modes, Preferred: o.preferred})
	}
	for i := range st.Crtcs {
		for _, o := range st.Outputs {
			st.Crtcs[i].Possible = append(st.Crtcs[i].Possible, o.ID)
		}
	}
	return st
}

func deskState() *State {
	all := []ModeID{m1080, m1080_50, m768}
	return testState(2, RotateNormal|RotateLeft|RotateRight|RotateInverted,
		fakeOut{"HDMI1", true, all, 1},
		fakeOut{"HDMI2", true, all, 1},
		fakeOut{"eDP1", true, []ModeID{m768}, 1},
		fakeOut{"DP1", false, nil, 0},
	)
}

// recorder is a recording fake Server. It also keeps the configuration it
// was told, so a test can compare it with what was planned, and can fail
// the n-th call.
type recorder struct {
	calls  []string
	st     *State
	failAt int // 1-based call number that fails; 0: none
	nextID ModeID
}

var errInjected = errors.New("injected failure")

func newRecorder(st *State) *recorder { return &recorder{st: st.Clone(), nextID: 0x900} }

func (r *recorder) call(format string, args ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	if r.failAt == len(r.calls) {
		return errInjected
	}
	return nil
}

func (r *recorder) CreateMode(m Mode) (ModeID, error) {
	if err := r.call("create-mode %s", m.Name); err != nil {
		return 0, err
	}
	r.nextID++
	m.ID = r.nextID
	r.st.Modes = append(r.st.Modes, m)
	return m.ID, nil
}

func (r *recorder) AddOutputMode(o OutputID, m ModeID) error {
	if err := r.call("add-mode 0x%x 0x%x", uint32(o), uint32(m)); err != nil {
		return err
	}
	out, _ := r.st.OutputByID(o)
	out.Modes = append(out.Modes, m)
	return nil
}

func (r *recorder) Grab() error   { return r.call("grab") }
func (r *recorder) Ungrab() error { return r.call("ungrab") }

func (r *recorder) SetScreenSize(w, h, mmw, mmh int) error {
	if err := r.call("screen %dx%d %dx%dmm", w, h, mmw, mmh); err != nil {
		return err
	}
	r.st.Width, r.st.Height, r.st.MmWidth, r.st.MmHeight = w, h, mmw, mmh
	return nil
}

func (r *recorder) SetCrtc(id CrtcID, x, y int, mode ModeID, rot Rotation, outs []OutputID) error {
	var names []string
	for _, o := range outs {
		out, _ := r.st.OutputByID(o)
		names = append(names, out.Name)
	}
	if err := r.call("crtc 0x%x mode 0x%x %d,%d %s [%s]", uint32(id), uint32(mode), x, y, rot, strings.Join(names, " ")); err != nil {
		return err
	}
	c, _ := r.st.Crtc(id)
	for i := range r.st.Outputs {
		if r.st.Outputs[i].Crtc == id {
			r.st.Outputs[i].Crtc = 0
		}
	}
	c.X, c.Y, c.Mode, c.Rotation, c.Outputs = x, y, mode, rot, slices.Clone(outs)
	c.Width, c.Height = 0, 0
	if m, ok := r.st.Mode(mode); ok && mode != 0 {
		c.Width, c.Height = int(m.Width), int(m.Height)
		if rot.Swaps() {
			c.Width, c.Height = c.Height, c.Width
		}
	}
	for _, o := range outs {
		out, _ := r.st.OutputByID(o)
		out.Crtc = id
	}
	return nil
}

func (r *recorder) SetPrimary(o OutputID) error {
	if err := r.call("primary 0x%x", uint32(o)); err != nil {
		return err
	}
	r.st.Primary = o
	return nil
}
