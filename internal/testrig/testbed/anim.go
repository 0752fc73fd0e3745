package testbed

import (
	"fmt"
	"strings"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// AnimName is the window name of scripts/bench/animator, the 640x480
// window repainted 30 times a second that the bench and the bandwidth
// tests show through xpra.
const AnimName = "perch-anim"

// AnimWindow finds the animator's viewable window among the root's
// children on x's screen; 0 when there is none.
func AnimWindow(x *xgb.Conn) xproto.Window {
	tree, err := xproto.QueryTree(x, xproto.Setup(x).DefaultScreen(x).Root).Reply()
	if err != nil {
		return 0
	}
	for _, ch := range tree.Children {
		p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err != nil || !strings.Contains(string(p.Value), AnimName) {
			continue
		}
		if a, err := xproto.GetWindowAttributes(x, ch).Reply(); err == nil && a.MapState == xproto.MapStateViewable {
			return ch
		}
	}
	return 0
}

// AnimFrame reads the frame number the animator draws in its window's top
// row: 16 blocks of 16x16, white for 1, bit 15 first.
func AnimFrame(x *xgb.Conn, win xproto.Window) (int, error) {
	r, err := xproto.GetImage(x, xproto.ImageFormatZPixmap, xproto.Drawable(win), 0, 8, 256, 1, 0xffffffff).Reply()
	if err != nil {
		return 0, fmt.Errorf("read the animation's window: %w", err)
	}
	n := 0
	for i := range 16 {
		px := (8 + 16*i) * 4
		if px+1 < len(r.Data) && r.Data[px+1] > 128 {
			n |= 1 << (15 - i)
		}
	}
	return n, nil
}

// FrameCounter counts the new frames read from the animation's window.
// A window not yet painted reads all white or all black, and a window
// half painted reads anything: such readings, and jumps of more than
// maxFrameJump, do not count.
type FrameCounter struct {
	last int // the last frame counted; -1: none yet
	Seen int // frames counted after the first
}

// maxFrameJump is 100 s of the animation's frames.
const maxFrameJump = 3000

// NewFrameCounter starts a count.
func NewFrameCounter() *FrameCounter { return &FrameCounter{last: -1} }

// Add takes one reading of the frame number.
func (f *FrameCounter) Add(n int) {
	if n == 0 || n == 0xffff || (f.last >= 0 && n > f.last+maxFrameJump) {
		return
	}
	if n > f.last {
		if f.last >= 0 {
			f.Seen++
		}
		f.last = n
	}
}
