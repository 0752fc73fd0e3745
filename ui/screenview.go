package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/perchdesk/perch/api"
)

// Colours of the layout drawing (fixed, so that a screenshot can find them).
var (
	OutputFill   = color.NRGBA{0xcb, 0xd5, 0xe1, 0xff} // an output
	PrimaryFill  = color.NRGBA{0x93, 0xc5, 0xfd, 0xff} // the primary output
	outputStroke = color.NRGBA{0x33, 0x41, 0x55, 0xff}
	outputText   = color.NRGBA{0x0f, 0x17, 0x2a, 0xff}
)

// Box is a rectangle in widget coordinates.
type Box struct{ X, Y, W, H float32 }

// FitOutputs scales the screen's outputs into a w×h area with pad on each
// side, keeping their proportions and centring the drawing.
func FitOutputs(sc api.Screen, w, h, pad float32) []Box {
	sw, sh := sc.Width, sc.Height
	for _, o := range sc.Outputs {
		ow, oh := outputSize(o)
		sw, sh = max(sw, o.X+ow), max(sh, o.Y+oh)
	}
	if sw <= 0 || sh <= 0 || w <= 2*pad || h <= 2*pad {
		return make([]Box, len(sc.Outputs))
	}
	scale := min((w-2*pad)/float32(sw), (h-2*pad)/float32(sh))
	ox := (w - float32(sw)*scale) / 2
	oy := (h - float32(sh)*scale) / 2
	boxes := make([]Box, len(sc.Outputs))
	for i, o := range sc.Outputs {
		ow, oh := outputSize(o)
		boxes[i] = Box{ox + float32(o.X)*scale, oy + float32(o.Y)*scale, float32(ow) * scale, float32(oh) * scale}
	}
	return boxes
}

// outputSize is an output's footprint on the screen: its size, else its
// mode's (turned for a left or right rotation).
func outputSize(o api.OutputView) (int, int) {
	if o.Width > 0 && o.Height > 0 {
		return o.Width, o.Height
	}
	ws, hs, ok := strings.Cut(o.Mode, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0
	}
	if o.Rotation == "left" || o.Rotation == "right" {
		return h, w
	}
	return w, h
}

// OutputCaption is the text drawn in an output's rectangle, one short line
// each: its name, its mode (with the refresh rate), its rotation, and
// "★ primary" for the primary. A line that does not fit is not drawn.
func OutputCaption(o api.OutputView) []string {
	mode := o.Mode
	if o.Refresh > 0 {
		mode += fmt.Sprintf("@%.0f", o.Refresh)
	}
	rot := o.Rotation
	if rot == "" {
		rot = "normal"
	}
	lines := []string{o.Name, mode, rot}
	if o.Primary {
		lines = append(lines, "★ primary")
	}
	return lines
}

// screenView draws the layout: each output a rectangle to scale, with its
// caption.
type screenView struct {
	widget.BaseWidget
	screen api.Screen
}

func newScreenView() *screenView {
	v := &screenView{}
	v.ExtendBaseWidget(v)
	return v
}

// SetScreen draws sc. UI goroutine only.
func (v *screenView) SetScreen(sc api.Screen) {
	v.screen = sc
	v.Refresh()
}

// CreateRenderer is part of fyne.Widget.
func (v *screenView) CreateRenderer() fyne.WidgetRenderer {
	r := &screenRenderer{v: v, empty: canvas.NewText("no outputs", theme.Color(theme.ColorNameDisabled))}
	r.sync()
	return r
}

type outputBox struct {
	rect  *canvas.Rectangle
	texts []*canvas.Text
}

type screenRenderer struct {
	v     *screenView
	boxes []outputBox
	empty *canvas.Text
	objs  []fyne.CanvasObject
}

const screenPad = 8

func (r *screenRenderer) Layout(size fyne.Size) {
	fit := FitOutputs(r.v.screen, size.Width, size.Height, screenPad)
	for i, b := range r.boxes {
		f := fit[i]
		b.rect.Move(fyne.NewPos(f.X, f.Y))
		b.rect.Resize(fyne.NewSize(f.W, f.H))
		y := f.Y + 4
		for _, t := range b.texts {
			ts := t.MinSize()
			t.Move(fyne.NewPos(f.X+(f.W-ts.Width)/2, y))
			t.Resize(ts)
			t.Hidden = y+ts.Height > f.Y+f.H || ts.Width > f.W
			y += ts.Height
		}
	}
	es := r.empty.MinSize()
	r.empty.Move(fyne.NewPos((size.Width-es.Width)/2, (size.Height-es.Height)/2))
	r.empty.Resize(es)
}

func (r *screenRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 240) }

func (r *screenRenderer) Refresh() {
	r.sync()
	r.Layout(r.v.Size())
	for _, o := range r.objs {
		o.Refresh()
	}
}

// sync makes one box per output, with its colours and caption.
func (r *screenRenderer) sync() {
	outs := r.v.screen.Outputs
	r.boxes = r.boxes[:0]
	r.objs = []fyne.CanvasObject{r.empty}
	r.empty.Hidden = len(outs) > 0
	for _, o := range outs {
		b := outputBox{rect: canvas.NewRectangle(OutputFill)}
		b.rect.StrokeColor, b.rect.StrokeWidth = outputStroke, 1
		if o.Primary {
			b.rect.FillColor, b.rect.StrokeWidth = PrimaryFill, 2
		}
		for i, line := range OutputCaption(o) {
			t := canvas.NewText(line, outputText)
			t.TextSize = theme.TextSize() - 2
			if i == 0 {
				t.TextStyle.Bold = true
				t.TextSize = theme.TextSize()
			}
			b.texts = append(b.texts, t)
		}
		r.boxes = append(r.boxes, b)
		r.objs = append(r.objs, b.rect)
	}
	for _, b := range r.boxes {
		for _, t := range b.texts {
			r.objs = append(r.objs, t)
		}
	}
}

func (r *screenRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *screenRenderer) Destroy() {}
