package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestArrange(t *testing.T) {
	heads := []Head{
		{Name: "A", Connected: true}, {Name: "B", Connected: true},
		{Name: "C", Connection: "disconnected"},
	}
	size := func(w, h int) SizeFunc {
		return func(*OutputSpec) (int, int, error) { return w, h, nil }
	}
	a, err := Arrange(heads, Layout{Outputs: []OutputSpec{
		{Name: "A", Primary: true}, {Name: "B", LeftOf: "A", Rotate: RotateLeft},
	}}, size(1920, 1080))
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Find("A")
	pb, _ := a.Find("B")
	if pa.X != 1080 || pa.Y != 0 || pb.X != 0 || pb.W != 1080 || pb.H != 1920 ||
		a.Width != 3000 || a.Height != 1920 || a.Primary != "A" {
		t.Errorf("got A %+v B %+v box %dx%d primary %q", *pa, *pb, a.Width, a.Height, a.Primary)
	}
	refusals := map[string]Layout{
		"no such output":          {Outputs: []OutputSpec{{Name: "Z"}}},
		"is disconnected":         {Outputs: []OutputSpec{{Name: "C"}}},
		"listed twice":            {Outputs: []OutputSpec{{Name: "A"}, {Name: "A"}}},
		"which this layout turns": {Outputs: []OutputSpec{{Name: "A", RightOf: "B"}}},
		"placement loop":          {Outputs: []OutputSpec{{Name: "A", RightOf: "B"}, {Name: "B", RightOf: "A"}}},
		"more than one output":    {Outputs: []OutputSpec{{Name: "A", Primary: true}, {Name: "B", Primary: true}}},
		"lists no outputs":        {},
	}
	for want, l := range refusals {
		_, err := Arrange(heads, l, size(800, 600))
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestPickMode(t *testing.T) {
	modes := []Mode{
		{Width: 1920, Height: 1080, Refresh: 60, Preferred: true},
		{Width: 1920, Height: 1080, Refresh: 75},
		{Width: 1280, Height: 1024, Refresh: 60},
		{Width: 1280, Height: 1024, Refresh: 75},
		{Width: 1024, Height: 768, Refresh: 60, Interlaced: true},
	}
	for _, c := range []struct {
		req  string
		want int
	}{
		{"preferred", 0}, {"1920x1080", 0}, {"1920x1080@75", 1}, {"1280x1024", 3},
		{"1280x1024@59.7", 2}, {"1024x768", -1}, {"800x600", -1},
	} {
		req, err := ParseMode(c.req)
		if err != nil {
			t.Fatal(err)
		}
		if got := PickMode(modes, req); got != c.want {
			t.Errorf("%s: got %d, want %d", c.req, got, c.want)
		}
	}
	if PickMode(nil, ModeRequest{Preferred: true}) != -1 {
		t.Error("no modes: want -1")
	}
}
