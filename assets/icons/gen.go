//go:build ignore

// gen draws perch's tray icons and application icon: a monitor with a
// status dot, one PNG per tray state. Run it with `go generate
// ./assets/icons` (or `go run gen.go` in this directory).
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

var (
	frame  = color.NRGBA{0x37, 0x41, 0x51, 0xff} // monitor bezel and stand
	screen = color.NRGBA{0xe5, 0xe7, 0xeb, 0xff}
	states = []struct {
		name string
		dot  color.NRGBA
		ring bool // a hollow dot: connecting
	}{
		{"disconnected", color.NRGBA{0x9c, 0xa3, 0xaf, 0xff}, false},
		{"connecting", color.NRGBA{0x3b, 0x82, 0xf6, 0xff}, true},
		{"connected", color.NRGBA{0x16, 0xa3, 0x4a, 0xff}, false},
		{"degraded", color.NRGBA{0xf5, 0x9e, 0x0b, 0xff}, false},
	}
)

func main() {
	for _, s := range states {
		img := monitor(64)
		dot(img, 46, 44, 15, s.dot, s.ring)
		if err := write(s.name+".png", img); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	app := monitor(256)
	// The app icon: a perch (a branch) across the screen and a bird-like dot.
	fill(app, 40, 150, 216, 158, frame)
	dot(app, 150, 118, 30, color.NRGBA{0x16, 0xa3, 0x4a, 0xff}, false)
	if err := write("perch.png", app); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// monitor draws a monitor filling an n×n image.
func monitor(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	u := float64(n) / 64
	p := func(v float64) int { return int(math.Round(v * u)) }
	fill(img, p(2), p(6), p(62), p(48), frame)   // bezel
	fill(img, p(6), p(10), p(58), p(44), screen) // screen
	fill(img, p(28), p(48), p(36), p(54), frame) // neck
	fill(img, p(18), p(54), p(46), p(58), frame) // foot
	return img
}

func fill(img *image.NRGBA, x0, y0, x1, y1 int, c color.NRGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
}

// dot draws a disc (or a ring) of radius r at (cx, cy) in 64-unit
// coordinates scaled to the image, with a white outline.
func dot(img *image.NRGBA, cx, cy, r float64, c color.NRGBA, ring bool) {
	u := float64(img.Bounds().Dx()) / 64
	if img.Bounds().Dx() == 256 {
		u = 1
	}
	cx, cy, r = cx*u, cy*u, r*u
	outline := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			switch {
			case d <= r-2*u && !(ring && d < r-6*u):
				img.SetNRGBA(x, y, c)
			case d <= r-2*u && ring:
				img.SetNRGBA(x, y, outline)
			case d <= r:
				img.SetNRGBA(x, y, outline)
			}
		}
	}
}

func write(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return f.Close()
}
