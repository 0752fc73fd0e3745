package cli

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/sys/xshot"
)

// TestDemo runs `perch demo --for` and checks its screenshot: the arranged
// two-monitor screen with a remote window drawn on each monitor.
func TestDemo(t *testing.T) {
	needRemote(t) // the same servers must be installable; the demo starts its own
	// The demo points this process's DISPLAY at its own server: put it back.
	t.Setenv("DISPLAY", os.Getenv("DISPLAY"))
	t.Setenv("XAUTHORITY", os.Getenv("XAUTHORITY"))
	shot := filepath.Join(t.TempDir(), "demo.png")
	r := perch(t, map[string]string{}, "demo", "--for", "8s", "--shot", shot)
	if r.code != 0 {
		t.Fatalf("demo exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"every session attached after", "screenshot of the arranged display written to " + shot, "stopped; cleaning up"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The 2304x1024 desk layout, with the caption's band below it.
	if b := img.Bounds(); b.Dx() != 2304 || b.Dy() <= 1024 || b.Dy() > 1100 {
		t.Fatalf("screenshot is %v, want the 2304x1024 desk layout and a caption below", b)
	}
	white := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y += 4 {
			for x := r.Min.X; x < r.Max.X; x += 4 {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if cr > 0xe000 && cg > 0xe000 && cb > 0xe000 {
					n++
				}
			}
		}
		return n
	}
	// xclock asked for +200+200 on the left monitor, xeyes for +1500+200
	// on the right one (which starts at x=1280); below them, nothing.
	if n := white(image.Rect(200, 200, 500, 500)); n < 1000 {
		t.Errorf("the clock's window is not drawn on the left monitor (%d white samples)", n)
	}
	if n := white(image.Rect(1500, 200, 1900, 500)); n < 300 {
		t.Errorf("the eyes are not drawn on the right monitor (%d white samples)", n)
	}
	if n := white(image.Rect(0, 700, 2304, 1024)); n != 0 {
		t.Errorf("%d white samples where nothing should be drawn", n)
	}
	// The arrangement: DUMMY0 (primary) outlined at 0,0 1280x1024, DUMMY1
	// at 1280,0 1024x768, the screen below DUMMY1 shown by no monitor, and
	// each caption's text in the monitor's top left corner.
	is := func(x, y int, c color.RGBA) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(b>>8) == c.B
	}
	for _, p := range []struct {
		x, y int
		c    color.RGBA
		what string
	}{
		{2, 600, xshot.PrimaryFill, "DUMMY0's left edge"},
		{1277, 600, xshot.PrimaryFill, "DUMMY0's right edge"},
		{640, 1021, xshot.PrimaryFill, "DUMMY0's bottom edge"},
		{1283, 600, xshot.OutputFill, "DUMMY1's left edge"},
		{1800, 765, xshot.OutputFill, "DUMMY1's bottom edge"},
		{1800, 900, xshot.Offscreen, "below DUMMY1"},
	} {
		if !is(p.x, p.y, p.c) {
			t.Errorf("%s: pixel %d,%d is %v, want %v", p.what, p.x, p.y, img.At(p.x, p.y), p.c)
		}
	}
	text := func(r image.Rectangle) (n int) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if is(x, y, xshot.TextColor) {
					n++
				}
			}
		}
		return n
	}
	if text(image.Rect(0, 0, 400, 150)) == 0 || text(image.Rect(1280, 0, 1680, 150)) == 0 {
		t.Error("no caption text at the monitors' top left corners")
	}
	// The one-line caption in a band below the screen, and each window's
	// session named in a label just above it (xclock at 200,200; xeyes at
	// 1500,200).
	if b := img.Bounds(); b.Dy() <= 1024 || text(image.Rect(0, 1024, 1000, b.Max.Y)) == 0 {
		t.Errorf("no caption below the screen (picture %v)", b)
	}
	for _, r := range []image.Rectangle{image.Rect(200, 150, 400, 200), image.Rect(1500, 150, 1700, 200)} {
		labels := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if is(x, y, xshot.LabelFill) {
					labels++
				}
			}
		}
		if labels == 0 || text(r) == 0 {
			t.Errorf("no session label above the window at %v", r.Min)
		}
	}
}
