package xrandr

import (
	"errors"
	"fmt"
	"math"
)

// Modeline is a mode's timing, as printed by cvt.
type Modeline struct {
	// Name is cvt's name for the mode: "%dx%d_%.2f" (width, height and the
	// refresh as requested, 60 when 0) for normal blanking and "%dx%dR" for
	// reduced blanking. The width is the one after cvt's rounding up to a
	// multiple of 8.
	Name string
	// Clock is the pixel clock in MHz, a multiple of 0.25 (e.g. 173.00).
	Clock float64
	// HDisplay, HSyncStart, HSyncEnd and HTotal are the horizontal timings
	// in pixels.
	HDisplay, HSyncStart, HSyncEnd, HTotal uint16
	// VDisplay, VSyncStart, VSyncEnd and VTotal are the vertical timings in
	// lines.
	VDisplay, VSyncStart, VSyncEnd, VTotal uint16
	// HSyncPositive and VSyncPositive give the sync polarities: cvt uses
	// "-hsync +vsync" for normal blanking and "+hsync -vsync" for reduced.
	HSyncPositive, VSyncPositive bool
	// Refresh is the actual vertical refresh in Hz computed from the
	// timings (e.g. 59.96 for a 60 Hz request).
	Refresh float64
}

// CVT constants, named after those of libxcvt / xf86cvt.c.
const (
	cvtHGranularity   = 8     // character cell horizontal granularity (pixels)
	cvtMinVPorch      = 3     // minimum vertical front porch (lines)
	cvtMinVBPorch     = 6     // minimum vertical back porch (lines)
	cvtClockStep      = 250   // pixel clock step (kHz)
	cvtMinVSyncBP     = 550.0 // minimum vsync + back porch time (µs)
	cvtHSyncPercent   = 8     // nominal hsync width (% of line period)
	cvtCPrime         = 30    // (C - J) * K / 256 + J with C=40, J=20, K=128
	cvtMPrime         = 300   // M * K / 256 with M=600, K=128
	cvtRBMinVBlank    = 460.0 // reduced blanking: minimum vblank time (µs)
	cvtRBHSync        = 32    // reduced blanking: hsync width (pixels)
	cvtRBHBlank       = 160   // reduced blanking: hblank width (pixels)
	cvtRBVFPorch      = 3     // reduced blanking: vertical front porch (lines)
	cvtMaxDimension   = 32767 // largest width or height accepted
	cvtDefaultRefresh = 60.0
)

// CVT returns the VESA CVT modeline for width x height at refresh Hz (0 means
// 60), non-interlaced, exactly as the X.Org cvt program (libxcvt) prints it.
// reduced selects CVT reduced blanking, which like cvt requires a refresh
// that is a multiple of 60 Hz.
//
// As cvt does, a width that is not a multiple of 8 is rounded up to the next
// multiple of 8 (1366 becomes 1368, also in the name), and the FWXGA quirk is
// kept: 1360x768 yields a mode 1366 pixels wide (still named "1360x768...").
//
// It returns an error for a width or height <= 0 or > 32767, for a negative
// or non-finite refresh, and when the timings do not make a usable mode
// (absurd refresh rates, or degenerate sizes of a few pixels for which cvt
// prints a zero clock or out-of-order timings).
func CVT(width, height int, refresh float64, reduced bool) (Modeline, error) {
	if width <= 0 || width > cvtMaxDimension {
		return Modeline{}, fmt.Errorf("cvt: width %d out of range 1..%d", width, cvtMaxDimension)
	}
	if height <= 0 || height > cvtMaxDimension {
		return Modeline{}, fmt.Errorf("cvt: height %d out of range 1..%d", height, cvtMaxDimension)
	}
	if refresh < 0 || math.IsNaN(refresh) || math.IsInf(refresh, 0) {
		return Modeline{}, fmt.Errorf("cvt: invalid refresh rate %v", refresh)
	}

	// cvt works with a C float refresh; round it the same way so names and
	// timings agree with it for rates like 59.94.
	vrefresh := float32(refresh)
	if vrefresh == 0 {
		vrefresh = cvtDefaultRefresh
	}
	if reduced {
		q := float64(vrefresh) / 60.0
		if q != math.Floor(q) {
			return Modeline{}, fmt.Errorf("cvt: reduced blanking needs a refresh rate that is a multiple of 60 Hz, not %.2f", vrefresh)
		}
	}

	// cvt's main(): the horizontal timing is always a multiple of 8, round up.
	hdisplay := width
	if hdisplay%cvtHGranularity != 0 {
		hdisplay = hdisplay&^(cvtHGranularity-1) + cvtHGranularity
	}

	var name string
	if reduced {
		name = fmt.Sprintf("%dx%dR", hdisplay, height)
	} else {
		name = fmt.Sprintf("%dx%d_%.2f", hdisplay, height, float64(vrefresh))
	}

	t, err := cvtTimings(hdisplay, height, vrefresh, reduced)
	if err != nil {
		return Modeline{}, fmt.Errorf("cvt: %dx%d at %.2f Hz: %w", width, height, vrefresh, err)
	}
	t.Name = name
	return t, nil
}

// errNoFit reports timings that do not fit a mode.
var errNoFit = errors.New("timings out of range")

// cvtTimings is libxcvt_gen_mode_info without margins and interlace. It
// keeps the C code's mix of float (float32) and double (float64) arithmetic
// so that truncations land exactly where cvt's do.
func cvtTimings(hdisplay, vdisplay int, vrefresh float32, reduced bool) (Modeline, error) {
	// 2. Horizontal pixels (already a multiple of 8 after CVT's rounding).
	hdisplay -= hdisplay % cvtHGranularity
	vsync := cvtVSyncWidth(hdisplay, vdisplay)

	var (
		b   blanking
		err error
	)
	if !reduced {
		b, err = cvtStandardBlanking(hdisplay, vdisplay, vsync, vrefresh)
	} else {
		b, err = cvtReducedBlanking(hdisplay, vdisplay, vsync, vrefresh)
	}
	if err != nil {
		return Modeline{}, err
	}
	return b.modeline(hdisplay, vdisplay)
}

// cvtVSyncWidth is the vsync width CVT gives the aspect ratio.
func cvtVSyncWidth(hdisplay, vdisplay int) int {
	switch {
	case vdisplay%3 == 0 && vdisplay*4/3 == hdisplay:
		return 4
	case vdisplay%9 == 0 && vdisplay*16/9 == hdisplay:
		return 5
	case vdisplay%10 == 0 && vdisplay*16/10 == hdisplay:
		return 6
	case vdisplay%4 == 0 && vdisplay*5/4 == hdisplay:
		return 7
	case vdisplay%9 == 0 && vdisplay*15/9 == hdisplay:
		return 7
	default: // custom
		return 10
	}
}

// blanking is what the standard and reduced-blanking branches of CVT
// compute: the line period and the sync placement.
type blanking struct {
	hperiod                      float32
	htotal, hsyncStart, hsyncEnd int
	vtotal, vsyncStart, vsyncEnd int
	hsyncPositive, vsyncPositive bool
}

// cvtStandardBlanking is CVT's branch for CRT-style blanking.
func cvtStandardBlanking(hdisplay, vdisplay, vsync int, vfieldRate float32) (blanking, error) {
	var b blanking
	// 8. Estimated horizontal period (µs).
	b.hperiod = float32(1000000.0/float64(vfieldRate)-cvtMinVSyncBP) /
		float32(vdisplay+cvtMinVPorch)
	if !(b.hperiod > 0) {
		return b, errNoFit
	}

	// 9. Lines in vsync + back porch.
	vsyncAndBackPorch := int(cvtMinVSyncBP/float64(b.hperiod)) + 1
	if vsyncAndBackPorch < vsync+cvtMinVPorch {
		vsyncAndBackPorch = vsync + cvtMinVPorch
	}

	// 11. Total lines in the vertical field.
	b.vtotal = vdisplay + vsyncAndBackPorch + cvtMinVPorch

	// 12. Ideal blanking duty cycle (%).
	hblankPercentage := float32(cvtCPrime - float64(float32(cvtMPrime)*b.hperiod)/1000.0)

	// 13. Blanking time, a multiple of twice the cell granularity.
	if hblankPercentage < 20 {
		hblankPercentage = 20
	}
	hblank := int(float64(float32(hdisplay)*hblankPercentage) / (100.0 - float64(hblankPercentage)))
	hblank -= hblank % (2 * cvtHGranularity)

	// 14. Total pixels in a line, and the hsync placement.
	b.htotal = hdisplay + hblank
	b.hsyncEnd = hdisplay + hblank/2
	b.hsyncStart = b.hsyncEnd - b.htotal*cvtHSyncPercent/100
	b.hsyncStart += cvtHGranularity - b.hsyncStart%cvtHGranularity

	b.vsyncStart = vdisplay + cvtMinVPorch
	b.vsyncEnd = b.vsyncStart + vsync
	b.hsyncPositive, b.vsyncPositive = false, true
	return b, nil
}

// cvtReducedBlanking is CVT's reduced-blanking branch (cvt -r).
func cvtReducedBlanking(hdisplay, vdisplay, vsync int, vfieldRate float32) (blanking, error) {
	var b blanking
	// 8. Estimated horizontal period (µs).
	b.hperiod = float32(1000000.0/float64(vfieldRate)-cvtRBMinVBlank) / float32(vdisplay)
	if !(b.hperiod > 0) {
		return b, errNoFit
	}

	// 9./10. Lines of vertical blanking, at least front porch + sync +
	// minimum back porch.
	vbiLines := int(float32(cvtRBMinVBlank)/b.hperiod + 1)
	if vbiLines < cvtRBVFPorch+vsync+cvtMinVBPorch {
		vbiLines = cvtRBVFPorch + vsync + cvtMinVBPorch
	}

	// 11./12. Totals and sync placement.
	b.vtotal = vdisplay + vbiLines
	b.htotal = hdisplay + cvtRBHBlank
	b.hsyncEnd = hdisplay + cvtRBHBlank/2
	b.hsyncStart = b.hsyncEnd - cvtRBHSync

	b.vsyncStart = vdisplay + cvtRBVFPorch
	b.vsyncEnd = b.vsyncStart + vsync
	b.hsyncPositive, b.vsyncPositive = true, false
	return b, nil
}

// modeline finishes CVT: the pixel clock, libxcvt's 1366 hack, the range
// checks and the actual refresh rate.
func (b blanking) modeline(hdisplay, vdisplay int) (Modeline, error) {
	// 15/13. Pixel clock (kHz), rounded down to the clock step.
	clockF := float64(b.htotal) * 1000.0 / float64(b.hperiod)
	if !(clockF >= 0) || clockF >= math.MaxUint32 {
		return Modeline{}, errNoFit
	}
	dotClock := uint64(clockF)
	dotClock -= dotClock % cvtClockStep

	// FWXGA hack carried by libxcvt (from xf86EdidModes.c), "because you
	// can't say 1366".
	if hdisplay == 1360 && vdisplay == 768 {
		hdisplay = 1366
		b.hsyncStart--
		b.hsyncEnd--
	}

	for _, v := range []int{hdisplay, b.hsyncStart, b.hsyncEnd, b.htotal, vdisplay, b.vsyncStart, b.vsyncEnd, b.vtotal} {
		if v < 0 || v > math.MaxUint16 {
			return Modeline{}, errNoFit
		}
	}
	// Degenerate sizes (a few pixels) give timings out of order, a sync
	// pulse of no width or a zero clock, which cvt prints regardless (cvt
	// 80 70: 80 88 88 96); no monitor syncs to them.
	if dotClock == 0 || b.hsyncStart < hdisplay || b.hsyncEnd <= b.hsyncStart || b.htotal < b.hsyncEnd ||
		vdisplay > b.vsyncStart || b.vsyncEnd <= b.vsyncStart || b.vtotal < b.vsyncEnd {
		return Modeline{}, errNoFit
	}

	// 17/15. Actual field rate, computed as cvt does (stored in a float).
	refresh := float32(1000.0 * float64(float32(dotClock)) / float64(float32(b.htotal*b.vtotal)))

	return Modeline{
		Clock:         float64(dotClock) / 1000.0,
		HDisplay:      uint16(hdisplay),
		HSyncStart:    uint16(b.hsyncStart),
		HSyncEnd:      uint16(b.hsyncEnd),
		HTotal:        uint16(b.htotal),
		VDisplay:      uint16(vdisplay),
		VSyncStart:    uint16(b.vsyncStart),
		VSyncEnd:      uint16(b.vsyncEnd),
		VTotal:        uint16(b.vtotal),
		HSyncPositive: b.hsyncPositive,
		VSyncPositive: b.vsyncPositive,
		Refresh:       float64(refresh),
	}, nil
}

// String formats m exactly like cvt's modeline output, e.g.
//
//	Modeline "1920x1080_60.00"  173.00  1920 2048 2248 2576  1080 1083 1088 1120 -hsync +vsync
func (m Modeline) String() string {
	hs, vs := "-hsync", "-vsync"
	if m.HSyncPositive {
		hs = "+hsync"
	}
	if m.VSyncPositive {
		vs = "+vsync"
	}
	return fmt.Sprintf("Modeline \"%s\"  %6.2f  %d %d %d %d  %d %d %d %d %s %s",
		m.Name, m.Clock,
		m.HDisplay, m.HSyncStart, m.HSyncEnd, m.HTotal,
		m.VDisplay, m.VSyncStart, m.VSyncEnd, m.VTotal,
		hs, vs)
}
