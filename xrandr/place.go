package xrandr

import (
	"math"
	"strings"
)

// place resolves absolute and relative positions as xrandr does, then
// shifts everything so the smallest x and y are 0.
func place(st *State, l Layout, specs map[string]*OutputSpec, size func(string) (int, int)) (map[string]Point, error) {
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
			return nil, refuse(sp.Name, "is placed %s itself", kind)
		}
		if _, ok := specs[ref]; !ok {
			if _, exists := st.Output(ref); exists {
				return nil, refuse(sp.Name, "is placed %s %s, which this layout turns off", kind, ref)
			}
			return nil, refuse(sp.Name, "is placed %s %s, which is no output of this screen (it has %s)",
				kind, ref, strings.Join(st.OutputNames(), ", "))
		}
	}
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
			break
		}
		if !progress {
			return nil, refuse("", "placement loop: %s are placed relative to each other and none has a fixed position",
				strings.Join(pending, ", "))
		}
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

// physicalSize keeps the screen's millimetres when its size does not change,
// else keeps its DPI, as xrandr does (96 DPI when the screen has no size).
func physicalSize(st *State, w, h int) (int, int) {
	if w == st.Width && h == st.Height && st.MmWidth > 0 && st.MmHeight > 0 {
		return st.MmWidth, st.MmHeight
	}
	dpi := 96.0
	if st.MmHeight > 0 && st.Height > 0 {
		dpi = 25.4 * float64(st.Height) / float64(st.MmHeight)
	}
	mmw, mmh := int(25.4*float64(w)/dpi), int(25.4*float64(h)/dpi)
	return max(mmw, 1), max(mmh, 1)
}
