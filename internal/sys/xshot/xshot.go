// Package xshot takes screenshots of an X screen's root window over xgb,
// as PNG: for `perch demo --shot` and for tests that check what is drawn.
package xshot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Capture reads the root window of the default screen. It supports the
// usual 24/32-bit TrueColor layouts (32 bits per pixel, little endian).
func Capture(x *xgb.Conn) (*image.RGBA, error) {
	setup := xproto.Setup(x)
	scr := setup.DefaultScreen(x)
	geo, err := xproto.GetGeometry(x, xproto.Drawable(scr.Root)).Reply()
	if err != nil {
		return nil, fmt.Errorf("screenshot: read the screen size: %w", err)
	}
	w, h := int(geo.Width), int(geo.Height)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// In bands, to keep each reply well under the request size limits.
	band := max(1, (1<<22)/(w*4))
	for y := 0; y < h; y += band {
		bh := min(band, h-y)
		r, err := xproto.GetImage(x, xproto.ImageFormatZPixmap, xproto.Drawable(scr.Root),
			0, int16(y), uint16(w), uint16(bh), 0xffffffff).Reply()
		if err != nil {
			return nil, fmt.Errorf("screenshot: read the image: %w", err)
		}
		if r.Depth != 24 && r.Depth != 32 {
			return nil, fmt.Errorf("screenshot: depth %d is not supported", r.Depth)
		}
		if len(r.Data) < w*bh*4 {
			return nil, fmt.Errorf("screenshot: short image data (%d bytes for %dx%d)", len(r.Data), w, bh)
		}
		for i := 0; i < w*bh; i++ {
			b, g, rr := r.Data[i*4], r.Data[i*4+1], r.Data[i*4+2]
			o := (y*w + i) * 4
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = rr, g, b, 0xff
		}
	}
	return img, nil
}

// WritePNG writes img to path.
func WritePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot: %w", err)
	}
	return f.Close()
}

// Colors counts the distinct colours of img (up to limit), a cheap check
// that something was drawn.
func Colors(img *image.RGBA, limit int) int {
	seen := map[[3]byte]struct{}{}
	for i := 0; i+3 < len(img.Pix) && len(seen) < limit; i += 4 {
		seen[[3]byte{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}] = struct{}{}
	}
	return len(seen)
}

// ColorsIn counts the distinct colours of img inside r (up to limit).
func ColorsIn(img *image.RGBA, r image.Rectangle, limit int) int {
	r = r.Intersect(img.Bounds())
	seen := map[[3]byte]struct{}{}
	for y := r.Min.Y; y < r.Max.Y && len(seen) < limit; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i+3 < len(row) && len(seen) < limit; i += 4 {
			seen[[3]byte{row[i], row[i+1], row[i+2]}] = struct{}{}
		}
	}
	return len(seen)
}

// Same reports whether a and b hold the same pixels inside r.
func Same(a, b *image.RGBA, r image.Rectangle) bool {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if !bytes.Equal(a.Pix[a.PixOffset(r.Min.X, y):a.PixOffset(r.Max.X, y)], b.Pix[b.PixOffset(r.Min.X, y):b.PixOffset(r.Max.X, y)]) {
			return false
		}
	}
	return true
}
