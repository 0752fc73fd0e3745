package xrandr

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
