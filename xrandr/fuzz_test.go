package xrandr

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for what the planner takes from outside: the mode and
// position strings of a profile (FuzzParseMode, FuzzParsePos) and a screen
// as the X server describes it (FuzzMakePlan). Seeds are in
// testdata/fuzz/<FuzzName>.

func FuzzParseMode(f *testing.F) {
	for _, s := range []string{"preferred", "", "1920x1080", "1366x768@59.94", "1x1@1000", "0x0", "1920x1080@", "1920x1080@NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := ParseMode(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote the mode", err)
			}
			return
		}
		if req.Preferred {
			if s != "" && s != "preferred" || req.Width != 0 || req.Height != 0 || req.Refresh != 0 {
				t.Fatalf("%q: %+v", s, req)
			}
			return
		}
		if req.Width < 1 || req.Height < 1 || req.Width > 32767 || req.Height > 32767 || req.Refresh < 0 || req.Refresh > 1000 || math.IsNaN(req.Refresh) {
			t.Fatalf("%q: %+v out of range", s, req)
		}
		// Written back, it reads the same.
		back := fmt.Sprintf("%dx%d", req.Width, req.Height)
		if req.Refresh != 0 {
			back += "@" + strconv.FormatFloat(req.Refresh, 'g', -1, 64)
		}
		if r2, err := ParseMode(back); err != nil || r2 != req {
			t.Fatalf("%q reads %+v; %q reads %+v, %v", s, req, back, r2, err)
		}
		// A mode the server lacks is made from CVT timings: they must be
		// ordered and the clock positive, or an error. The front porch may
		// be 0 (cvt 100 100 gives 104 104 112 120, as /usr/bin/cvt does).
		ml, err := CVT(req.Width, req.Height, req.Refresh, false)
		if err != nil {
			return
		}
		if ml.Clock <= 0 || int(ml.HDisplay) < req.Width || int(ml.VDisplay) != req.Height ||
			!(ml.HDisplay <= ml.HSyncStart && ml.HSyncStart < ml.HSyncEnd && ml.HSyncEnd <= ml.HTotal) ||
			!(ml.VDisplay <= ml.VSyncStart && ml.VSyncStart < ml.VSyncEnd && ml.VSyncEnd <= ml.VTotal) {
			t.Fatalf("%q: CVT gives %s", s, ml)
		}
		if m := modeFromModeline(ml); m.Refresh() <= 0 {
			t.Fatalf("%q: mode %+v has no refresh", s, m)
		}
	})
}

func FuzzParsePos(f *testing.F) {
	for _, s := range []string{"0,0", "1920x0", "-1280, 0", " 1 , 2 ", "32768,0", "x", ",", "1,2,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePos(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote the position", err)
			}
			return
		}
		if p.X < -32768 || p.X > 32767 || p.Y < -32768 || p.Y > 32767 {
			t.Fatalf("%q: %+v out of range", s, p)
		}
		if p2, err := ParsePos(fmt.Sprintf("%d,%d", p.X, p.Y)); err != nil || p2 != p {
			t.Fatalf("%q reads %+v; written back reads %+v, %v", s, p, p2, err)
		}
	})
}

// fuzzState builds a screen from fuzz bytes: the desk fixture with the
// server's answers bent (CRTC count and rotations, connection states,
// mode lists with unknown IDs and preferred counts past their end, odd
// timings, size limits).
func fuzzState(b []byte) *State {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	ncrtc := int(next() % 4)
	rots := Rotation(next()&0xf) | RotateNormal
	all := []ModeID{m1080, m1080_50, m768, m1200}
	var outs []fakeOut
	for i, name := range []string{"HDMI1", "HDMI2", "eDP1", "DP1"} {
		c := next()
		var modes []ModeID
		for j, m := range all {
			if c&(1<<j) != 0 {
				modes = append(modes, m)
			}
		}
		if c&0x10 != 0 {
			modes = append(modes, ModeID(0x7ff0+i)) // a mode the server does not list
		}
		outs = append(outs, fakeOut{name, c&0x20 == 0, modes, int(c>>6) % 4})
	}
	st := testState(ncrtc, rots, outs...)
	st.MaxWidth = 320 + int(next())*64
	st.MaxHeight = 200 + int(next())*64
	for i := range st.Modes {
		c := next()
		if c&1 != 0 {
			st.Modes[i].HTotal = 0 // no timings
		}
		if c&2 != 0 {
			st.Modes[i].Flags = uint32(c >> 2)
		}
	}
	// One output may already be on.
	if c := next(); c&1 != 0 && len(st.Crtcs) > 0 && len(st.Outputs[0].Modes) > 0 {
		m := st.Outputs[0].Modes[0]
		if mm, ok := st.Mode(m); ok {
			st.Crtcs[0].Mode, st.Crtcs[0].Width, st.Crtcs[0].Height = m, int(mm.Width), int(mm.Height)
			st.Crtcs[0].Outputs = []OutputID{st.Outputs[0].ID}
			st.Outputs[0].Crtc = st.Crtcs[0].ID
			if int(mm.Width) > st.Width {
				st.Width = int(mm.Width)
			}
			if int(mm.Height) > st.Height {
				st.Height = int(mm.Height)
			}
		}
	}
	return st
}

func FuzzMakePlan(f *testing.F) {
	f.Add([]byte{2, 0xf, 0x07, 0x07, 0x04, 0x20, 30, 30}, "HDMI1", "1920x1080", "", "HDMI2", "left", "right-of", true)
	f.Fuzz(func(t *testing.T, screen []byte, name1, mode1, pos1, name2, rot2, rel2 string, force bool) {
		st := fuzzState(screen)
		rot, err := ParseRotation(rot2)
		if err != nil {
			rot = RotateNormal
		}
		l := Layout{Outputs: []OutputSpec{{Name: name1, Mode: mode1, Primary: true, Force: force}}}
		if p, err := ParsePos(pos1); err == nil {
			l.Outputs[0].Pos = &p
		}
		if name2 != "" {
			sp := OutputSpec{Name: name2, Rotate: rot, Force: force}
			switch rel2 {
			case "right-of":
				sp.RightOf = name1
			case "left-of":
				sp.LeftOf = name1
			case "above":
				sp.Above = name1
			case "below":
				sp.Below = name1
			}
			l.Outputs = append(l.Outputs, sp)
		}
		before := st.Clone()
		p, err := MakePlan(st, l)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if p.Width < 1 || p.Height < 1 || p.Width > st.MaxWidth || p.Height > st.MaxHeight {
			t.Fatalf("screen %dx%d, limits %dx%d", p.Width, p.Height, st.MaxWidth, st.MaxHeight)
		}
		if len(p.Crtcs) != len(l.Outputs) {
			t.Fatalf("%d CRTCs for %d outputs", len(p.Crtcs), len(l.Outputs))
		}
		used := map[CrtcID]bool{}
		for _, c := range p.Crtcs {
			if used[c.Crtc] {
				t.Fatalf("CRTC 0x%x used twice", c.Crtc)
			}
			used[c.Crtc] = true
			if c.X < 0 || c.Y < 0 || c.X+c.Width > p.Width || c.Y+c.Height > p.Height || c.Width < 1 || c.Height < 1 {
				t.Fatalf("output %s at %d,%d %dx%d on a %dx%d screen", c.OutputName, c.X, c.Y, c.Width, c.Height, p.Width, p.Height)
			}
		}
		_ = p.XrandrCommands()
		// Applied, the layout is there: planning it again changes nothing.
		r := newRecorder(st)
		if err := Apply(r, p); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		again, err := MakePlan(r.st, l)
		if err != nil {
			t.Fatalf("replan after apply: %v\ncalls %q", err, r.calls)
		}
		if !again.Unchanged() {
			t.Fatalf("replan after apply is not unchanged: %+v\ncalls %q", again, r.calls)
		}
		if !reflect.DeepEqual(st, before) {
			t.Fatal("MakePlan or Apply changed the state it was given")
		}
	})
}
