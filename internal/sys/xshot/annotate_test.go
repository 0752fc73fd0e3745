package xshot

import (
	"image"
	"testing"
)

// TestLabelsAndCaption: a label is a LabelFill box with text in it at its
// point, and the caption sits in a band below the picture, each sized by
// CaptionSize, below the picture.
func TestLabelsAndCaption(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 800, 400))
	Labels(img, []Label{{At: image.Pt(100, 50), Text: ":64 xclock"}})
	img = WithCaption(img, "perch demo: one line")
	count := func(r image.Rectangle) (fill, text, other int) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				switch img.RGBAAt(x, y) {
				case LabelFill, OutputFill:
					fill++
				case TextColor:
					text++
				default:
					other++
				}
			}
		}
		return
	}
	w, h := CaptionSize([]string{":64 xclock"}, 2)
	if fill, text, other := count(image.Rect(100, 50, 100+w, 50+h)); other != 0 || text == 0 || fill == 0 {
		t.Errorf("label box: %d fill, %d text, %d other pixels; want only fill and text, some of each", fill, text, other)
	}
	if c := img.RGBAAt(99, 50); c == LabelFill {
		t.Errorf("the label starts left of its point")
	}
	_, ch := CaptionSize([]string{"perch demo: one line"}, 2)
	if b := img.Bounds(); b != image.Rect(0, 0, 800, 400+ch) {
		t.Fatalf("captioned picture is %v, want the picture and a band of %d below", b, ch)
	}
	if fill, text, other := count(image.Rect(0, 400, 800, 400+ch)); other != 0 || text == 0 || fill == 0 {
		t.Errorf("caption band: %d fill, %d text, %d other pixels; want only fill and text", fill, text, other)
	}
	if _, text, _ := count(image.Rect(0, 300, 800, 400)); text != 0 {
		t.Errorf("the caption covers the picture")
	}
}
