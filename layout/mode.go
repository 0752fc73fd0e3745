package layout

import "math"

// Mode is one mode an output offers, as the planner compares them.
type Mode struct {
	ID            string // the backend's name for it (Mutter's mode id, wlroots' object)
	Width, Height int
	Refresh       float64 // Hz; 0 when unknown
	Preferred     bool
	Interlaced    bool
}

// Fits reports whether m is what req asks for (req not Preferred): the same
// size, not interlaced, and within 0.5 Hz of the rate when one is asked.
func (m Mode) Fits(req ModeRequest) bool {
	if m.Width != req.Width || m.Height != req.Height || m.Interlaced {
		return false
	}
	return req.Refresh == 0 || math.Abs(m.Refresh-req.Refresh) < 0.5
}

// PickMode returns the index in modes of the mode req asks for, or -1: for
// "preferred" the first preferred mode (else the first mode); for a size,
// a preferred mode of that size when no rate is asked, else the one
// closest to the rate asked (the highest rate when none is).
func PickMode(modes []Mode, req ModeRequest) int {
	if req.Preferred {
		for i, m := range modes {
			if m.Preferred {
				return i
			}
		}
		if len(modes) > 0 {
			return 0
		}
		return -1
	}
	best := -1
	for i, m := range modes {
		if !m.Fits(req) {
			continue
		}
		if m.Preferred && req.Refresh == 0 {
			return i
		}
		if best < 0 || Better(m.Refresh, modes[best].Refresh, req.Refresh) {
			best = i
		}
	}
	return best
}

// Better reports whether rate a is a better choice than rate b for the
// wanted rate (0: the highest rate wins).
func Better(a, b, want float64) bool {
	if want == 0 {
		return a > b+0.001
	}
	return math.Abs(a-want) < math.Abs(b-want)
}
