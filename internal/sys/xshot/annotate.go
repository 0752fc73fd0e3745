package xshot

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The colours of the tray's layout drawing (ui.OutputFill, ui.PrimaryFill
// and its stroke and text; ui imports Fyne, this package must not), and the
// shade of the screen no monitor shows.
var (
	OutputFill  = color.RGBA{0xcb, 0xd5, 0xe1, 0xff}
	PrimaryFill = color.RGBA{0x93, 0xc5, 0xfd, 0xff}
	TextColor   = color.RGBA{0x0f, 0x17, 0x2a, 0xff}
	Offscreen   = color.RGBA{0x33, 0x41, 0x55, 0xff}
)

// Outline is a monitor to mark on a screenshot: its rectangle on the
// screen and its caption (name, mode, …), one line each.
type Outline struct {
	Rect    image.Rectangle
	Lines   []string
	Primary bool
}

// Border is the width of an outline in pixels; captions are drawn at
// captionScale times the 7×13 font.
const (
	Border       = 6
	captionScale = 3
)

// Annotate draws the arrangement on img as the tray's status window does:
// each monitor outlined in its fill colour (PrimaryFill for the primary)
// with its caption in a box of that colour at its top left corner, and the
// parts of the screen no monitor shows in Offscreen.
func Annotate(img *image.RGBA, outs []Outline) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if !onSome(image.Pt(x, y), outs) {
				img.SetRGBA(x, y, Offscreen)
			}
		}
	}
	for _, o := range outs {
		fill := OutputFill
		if o.Primary {
			fill = PrimaryFill
		}
		r := o.Rect.Intersect(b)
		u := image.NewUniform(fill)
		for _, side := range []image.Rectangle{
			{r.Min, image.Pt(r.Max.X, r.Min.Y+Border)}, {image.Pt(r.Min.X, r.Max.Y-Border), r.Max},
			{r.Min, image.Pt(r.Min.X+Border, r.Max.Y)}, {image.Pt(r.Max.X-Border, r.Min.Y), r.Max},
		} {
			draw.Draw(img, side.Intersect(r), u, image.Point{}, draw.Src)
		}
		caption(img, r.Min.Add(image.Pt(Border, Border)), o.Lines, fill, captionScale)
	}
}

// Label is a text to put on a screenshot at a point, e.g. which remote
// session a window came from.
type Label struct {
	At   image.Point // the top left corner of the label's box
	Text string
}

// LabelFill is the colour of a Label's box: light, so that it reads over a
// window and over Offscreen alike.
var LabelFill = color.RGBA{0xfd, 0xe6, 0x8a, 0xff}

// Labels draws each label in a box of LabelFill at twice the 7×13 font.
func Labels(img *image.RGBA, labels []Label) {
	for _, l := range labels {
		caption(img, l.At, []string{l.Text}, LabelFill, 2)
	}
}

// WithCaption returns img with a band below it that holds one line of
// text, in OutputFill: what the picture shows. The picture itself is not
// covered.
func WithCaption(img *image.RGBA, text string) *image.RGBA {
	w, h := CaptionSize([]string{text}, 2)
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(b.Min.X, b.Min.Y, max(b.Max.X, b.Min.X+w), b.Max.Y+h))
	draw.Draw(out, out.Bounds(), image.NewUniform(OutputFill), image.Point{}, draw.Src)
	draw.Draw(out, b, img, b.Min, draw.Src)
	caption(out, image.Pt(b.Min.X, b.Max.Y), []string{text}, OutputFill, 2)
	return out
}

// CaptionSize is the size in pixels of lines drawn as a caption at scale.
func CaptionSize(lines []string, scale int) (w, h int) {
	face := basicfont.Face7x13
	for _, l := range lines {
		w = max(w, font.MeasureString(face, l).Ceil())
	}
	const pad, lh = 4, 15
	return (w + 2*pad) * scale, (len(lines)*lh + 2*pad) * scale
}

func onSome(p image.Point, outs []Outline) bool {
	for _, o := range outs {
		if p.In(o.Rect) {
			return true
		}
	}
	return false
}

// caption draws lines in a box of colour bg with its top left at at, the
// font scaled up scale times.
func caption(img *image.RGBA, at image.Point, lines []string, bg color.RGBA, scale int) {
	face := basicfont.Face7x13
	const pad, lh = 4, 15
	w, h := CaptionSize(lines, 1)
	small := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(small, small.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.NewUniform(TextColor), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(pad, pad+i*lh+face.Ascent)
		d.DrawString(l)
	}
	sb := small.Bounds()
	for y := 0; y < sb.Dy()*scale; y++ {
		for x := 0; x < sb.Dx()*scale; x++ {
			p := image.Pt(at.X+x, at.Y+y)
			if p.In(img.Bounds()) {
				img.SetRGBA(p.X, p.Y, small.RGBAAt(x/scale, y/scale))
			}
		}
	}
}
