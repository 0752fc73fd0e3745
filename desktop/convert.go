package desktop

import (
	"fmt"
	"math"

	"github.com/perchdesk/perch/layout"
	"github.com/perchdesk/perch/xrandr"
)

// maxScreen is the largest layout perch plans on a compositor, which has
// no screen size limit of RandR's kind.
const maxScreen = 32767

// xmode is a compositor's mode as a RandR mode with timings that give its
// refresh rate back (one pixel of blanking: only the rate matters).
func xmode(id xrandr.ModeID, m layout.Mode) xrandr.Mode {
	return xrandr.Mode{
		ID: id, Name: fmt.Sprintf("%dx%d", m.Width, m.Height), Width: uint16(m.Width), Height: uint16(m.Height),
		HTotal: uint16(m.Width), VTotal: uint16(m.Height),
		DotClock: uint32(math.Round(m.Refresh * float64(m.Width) * float64(m.Height))),
	}
}

// StateOf shows a compositor's outputs as a RandR state: output i has ID
// i+1 and a CRTC of the same ID, its preferred modes first; a monitor's
// fingerprint is that of its make, model and serial.
func StateOf(sc *layout.Screen) *xrandr.State {
	st := &xrandr.State{MaxWidth: maxScreen, MaxHeight: maxScreen}
	for i, o := range sc.Outputs {
		id := xrandr.OutputID(i + 1)
		xo := xrandr.Output{
			ID: id, Name: o.Name, Connected: true, Connection: "connected", MmWidth: o.MmWidth, MmHeight: o.MmHeight,
			Crtcs: []xrandr.CrtcID{xrandr.CrtcID(id)}, Fingerprint: o.Fingerprint(),
		}
		rots := o.Rotations
		if rots == 0 {
			rots = layout.AllRotations
		}
		cr := xrandr.Crtc{ID: xrandr.CrtcID(id), Rotation: layout.RotateNormal, Rotations: rots, Possible: []xrandr.OutputID{id}}
		var cur xrandr.ModeID
		for pass := 0; pass < 2; pass++ { // preferred modes first
			for j, m := range o.Modes {
				if m.Preferred != (pass == 0) {
					continue
				}
				mid := xrandr.ModeID((i+1)*1000 + j + 1)
				st.Modes = append(st.Modes, xmode(mid, m))
				xo.Modes = append(xo.Modes, mid)
				if pass == 0 {
					xo.Preferred++
				}
				if j == o.Current {
					cur = mid
				}
			}
		}
		if o.Enabled {
			cm := o.CurrentMode
			if o.Current >= 0 && o.Current < len(o.Modes) {
				cm = o.Modes[o.Current]
			}
			if cur == 0 { // a mode the output does not list (wlroots' custom modes)
				cur = xrandr.ModeID((i+1)*1000 + 999)
				st.Modes = append(st.Modes, xmode(cur, cm))
			}
			w, h := footprint(sc, cm, o.Rotation, o.ScaleOr1())
			cr.X, cr.Y, cr.Width, cr.Height, cr.Mode, cr.Rotation = o.X, o.Y, w, h, cur, o.Rotation
			cr.Outputs = []xrandr.OutputID{id}
			xo.Crtc = cr.ID
			st.Width, st.Height = max(st.Width, o.X+w), max(st.Height, o.Y+h)
			if o.Primary {
				st.Primary = id
			}
		}
		st.Outputs = append(st.Outputs, xo)
		st.Crtcs = append(st.Crtcs, cr)
	}
	return st
}

// footprint is an output's size in the compositor's layout.
func footprint(sc *layout.Screen, m layout.Mode, r layout.Rotation, scale float64) (int, int) {
	if sc.Physical {
		scale = 1
	}
	w, h := int(math.Round(float64(m.Width)/scale)), int(math.Round(float64(m.Height)/scale))
	if r.Swaps() {
		w, h = h, w
	}
	return w, h
}

// PlanOf shows a compositor's target as a RandR plan against st (made by
// StateOf from the same screen): what the CLI prints and the agent logs.
func PlanOf(t *layout.Target, st *xrandr.State) *xrandr.Plan {
	p := &xrandr.Plan{Width: t.Width, Height: t.Height, MmWidth: st.MmWidth, MmHeight: st.MmHeight, Before: st, Off: t.Off,
		Primary: st.Primary}
	if t.Unchanged() {
		p.Width, p.Height = st.Width, st.Height
	}
	if pr, ok := st.OutputByID(st.Primary); ok {
		p.PrimaryName = pr.Name
	}
	for _, s := range t.On {
		o, _ := st.Output(s.Name)
		m := xmode(0, s.Mode)
		for _, mid := range o.Modes {
			if xm, ok := st.Mode(mid); ok && xm.Width == m.Width && xm.Height == m.Height && xm.DotClock == m.DotClock {
				m.ID = mid
			}
		}
		p.Crtcs = append(p.Crtcs, xrandr.CrtcPlan{
			Crtc: xrandr.CrtcID(o.ID), Output: o.ID, OutputName: o.Name, Mode: m, X: s.X, Y: s.Y,
			Width: s.W, Height: s.H, Rotation: s.Rotation, Changed: s.Changed,
		})
		if s.Primary {
			p.Primary, p.PrimaryName = o.ID, o.Name
		}
	}
	for _, n := range t.Off {
		if o, ok := st.Output(n); ok {
			p.Disable = append(p.Disable, xrandr.CrtcID(o.ID))
		}
	}
	return p
}
