package xrandr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

type placed struct {
	name       string
	x, y, w, h int
	rot        Rotation
	mode       ModeID // 0: don't check
}

func TestPlanPlacement(t *testing.T) {
	pt := func(x, y int) *Point { return &Point{X: x, Y: y} }
	three := func() *State {
		st := deskState()
		st.Crtcs = append(st.Crtcs, Crtc{ID: 0x42, Rotation: RotateNormal, Rotations: st.Crtcs[0].Rotations})
		for i := range st.Outputs {
			st.Outputs[i].Crtcs = append(st.Outputs[i].Crtcs, 0x42)
		}
		return st
	}
	tests := []struct {
		name      string
		st        func() *State
		layout    []OutputSpec
		w, h      int
		want      []placed
		primary   string
		newModes  []string // "output mode create?"
		wantNoOff bool
	}{
		{
			name: "single output, preferred mode", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1"}},
			w:      1920, h: 1080, want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, m1080}},
		},
		{
			name: "right-of", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", RightOf: "HDMI1"}},
			w:      3840, h: 1080,
			want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, m1080}, {"HDMI2", 1920, 0, 1920, 1080, RotateNormal, m1080}},
		},
		{
			name: "left-of shifts everything to 0,0", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", LeftOf: "HDMI1"}},
			w:      3840, h: 1080,
			want: []placed{{"HDMI1", 1920, 0, 1920, 1080, RotateNormal, 0}, {"HDMI2", 0, 0, 1920, 1080, RotateNormal, 0}},
		},
		{
			name: "above aligns left edges", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Mode: "1024x768"}, {Name: "HDMI2", Above: "HDMI1"}},
			w:      1920, h: 1848,
			want: []placed{{"HDMI1", 0, 1080, 1024, 768, RotateNormal, m768}, {"HDMI2", 0, 0, 1920, 1080, RotateNormal, m1080}},
		},
		{
			name: "below with mixed modes", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Mode: "1024x768"}, {Name: "HDMI2", Below: "HDMI1"}},
			w:      1920, h: 1848,
			want: []placed{{"HDMI1", 0, 0, 1024, 768, RotateNormal, m768}, {"HDMI2", 0, 768, 1920, 1080, RotateNormal, m1080}},
		},
		{
			name: "rotated left, right of a 1920x1080: 3000x1920", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Primary: true}, {Name: "HDMI2", RightOf: "HDMI1", Rotate: RotateLeft}},
			w:      3000, h: 1920, primary: "HDMI1",
			want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, m1080}, {"HDMI2", 1920, 0, 1080, 1920, RotateLeft, m1080}},
		},
		{
			name: "rotated right, left of another takes its rotated width", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", LeftOf: "HDMI1", Rotate: RotateRight}},
			w:      3000, h: 1920,
			want: []placed{{"HDMI1", 1080, 0, 1920, 1080, RotateNormal, 0}, {"HDMI2", 0, 0, 1080, 1920, RotateRight, 0}},
		},
		{
			name: "inverted keeps the footprint", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Rotate: RotateInverted}},
			w:      1920, h: 1080, want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateInverted, 0}},
		},
		{
			name: "chain of three", st: three,
			layout: []OutputSpec{{Name: "HDMI2", RightOf: "HDMI1"}, {Name: "HDMI1", RightOf: "eDP1"}, {Name: "eDP1"}},
			w:      1024 + 1920 + 1920, h: 1080,
			want: []placed{{"eDP1", 0, 0, 1024, 768, RotateNormal, m768}, {"HDMI1", 1024, 0, 1920, 1080, RotateNormal, 0}, {"HDMI2", 2944, 0, 1920, 1080, RotateNormal, 0}},
		},
		{
			name: "absolute positions are shifted to 0,0", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Pos: pt(100, 50)}, {Name: "HDMI2", Pos: pt(2020, 60)}},
			w:      3840, h: 1090,
			want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, 0}, {"HDMI2", 1920, 10, 1920, 1080, RotateNormal, 0}},
		},
		{
			name: "WxH@Hz picks the rate", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Mode: "1920x1080@50"}},
			w:      1920, h: 1080, want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, m1080_50}},
		},
		{
			name: "WxH picks the preferred mode of that size", st: deskState,
			layout: []OutputSpec{{Name: "HDMI1", Mode: "1920x1080"}},
			w:      1920, h: 1080, want: []placed{{"HDMI1", 0, 0, 1920, 1080, RotateNormal, m1080}},
		},
		{
			name: "small layout is raised to the minimum screen", st: func() *State {
				st := deskState()
				st.MinWidth, st.MinHeight = 2000, 1200
				return st
			},
			layout: []OutputSpec{{Name: "eDP1"}},
			w:      2000, h: 1200, want: []placed{{"eDP1", 0, 0, 1024, 768, RotateNormal, m768}},
		},
		{
			name: "a screen mode the output lacks is added", st: deskState,
			layout: []OutputSpec{{Name: "eDP1", Mode: "1600x1200"}},
			w:      1600, h: 1200, want: []placed{{"eDP1", 0, 0, 1600, 1200, RotateNormal, m1200}},
			newModes: []string{"eDP1 1600x1200 false"},
		},
		{
			name: "an unknown mode is created from CVT", st: deskState,
			layout: []OutputSpec{{Name: "eDP1", Mode: "1280x720"}},
			w:      1280, h: 720, want: []placed{{"eDP1", 0, 0, 1280, 720, RotateNormal, 0}},
			newModes: []string{"eDP1 1280x720_60.00 true"},
		},
		{
			name: "disconnected with force", st: deskState,
			layout: []OutputSpec{{Name: "DP1", Mode: "1024x768", Force: true}},
			w:      1024, h: 768, want: []placed{{"DP1", 0, 0, 1024, 768, RotateNormal, m768}},
			newModes: []string{"DP1 1024x768 false"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st()
			p, err := MakePlan(st, Layout{Outputs: tt.layout})
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			if p.Width != tt.w || p.Height != tt.h {
				t.Errorf("screen %dx%d, want %dx%d", p.Width, p.Height, tt.w, tt.h)
			}
			if len(p.Crtcs) != len(tt.want) {
				t.Fatalf("%d CRTCs planned, want %d", len(p.Crtcs), len(tt.want))
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(p.Crtcs, func(c CrtcPlan) bool { return c.OutputName == w.name })
				if i < 0 {
					t.Fatalf("%s not planned", w.name)
				}
				c := p.Crtcs[i]
				if c.X != w.x || c.Y != w.y || c.Width != w.w || c.Height != w.h || c.Rotation != w.rot {
					t.Errorf("%s at %d,%d %dx%d %s; want %d,%d %dx%d %s", w.name, c.X, c.Y, c.Width, c.Height, c.Rotation, w.x, w.y, w.w, w.h, w.rot)
				}
				if w.mode != 0 && c.Mode.ID != w.mode {
					t.Errorf("%s mode 0x%x, want 0x%x", w.name, c.Mode.ID, w.mode)
				}
			}
			if p.PrimaryName != tt.primary {
				t.Errorf("primary %q, want %q", p.PrimaryName, tt.primary)
			}
			var nm []string
			for _, m := range p.NewModes {
				nm = append(nm, fmt.Sprintf("%s %s %v", m.OutputName, m.Mode.Name, m.Create))
			}
			if !slices.Equal(nm, tt.newModes) {
				t.Errorf("new modes %q, want %q", nm, tt.newModes)
			}
			// CRTCs are distinct.
			seen := map[CrtcID]bool{}
			for _, c := range p.Crtcs {
				if seen[c.Crtc] {
					t.Errorf("CRTC 0x%x used twice", c.Crtc)
				}
				seen[c.Crtc] = true
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	normalOnly := func() *State {
		st := deskState()
		for i := range st.Crtcs {
			st.Crtcs[i].Rotations = RotateNormal
		}
		return st
	}
	small := func() *State {
		st := deskState()
		st.MaxWidth, st.MaxHeight = 2048, 2048
		return st
	}
	tests := []struct {
		name   string
		st     func() *State
		layout []OutputSpec
		want   string
	}{
		{"unknown output lists the real ones", deskState, []OutputSpec{{Name: "HDMI9"}},
			"output HDMI9: no such output (this screen has HDMI1, HDMI2, eDP1, DP1)"},
		{"disconnected without force", deskState, []OutputSpec{{Name: "DP1", Mode: "1024x768"}},
			"output DP1: is disconnected; set force = true to use it anyway"},
		{"rotation the CRTC lacks", normalOnly, []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", RightOf: "HDMI1", Rotate: RotateLeft}},
			"output HDMI2: rotation left is not supported by its CRTC (it supports: normal)"},
		{"placement cycle", deskState, []OutputSpec{{Name: "HDMI1", RightOf: "HDMI2"}, {Name: "HDMI2", RightOf: "HDMI1"}},
			"placement loop: HDMI1, HDMI2 are placed relative to each other and none has a fixed position"},
		{"placed relative to itself", deskState, []OutputSpec{{Name: "HDMI1", Above: "HDMI1"}},
			"output HDMI1: is placed above itself"},
		{"reference to an output that is off", deskState, []OutputSpec{{Name: "HDMI1", RightOf: "eDP1"}},
			"output HDMI1: is placed right-of eDP1, which this layout turns off"},
		{"reference to no output", deskState, []OutputSpec{{Name: "HDMI1", LeftOf: "VGA7"}},
			"output HDMI1: is placed left-of VGA7, which is no output of this screen (it has HDMI1, HDMI2, eDP1, DP1)"},
		{"more outputs than CRTCs", deskState, []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", RightOf: "HDMI1"}, {Name: "eDP1", RightOf: "HDMI2"}},
			"output eDP1: no free CRTC: the layout turns on 3 outputs and this output can use only 2 CRTCs, all taken by the others"},
		{"larger than the maximum", small, []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI2", RightOf: "HDMI1"}},
			"the layout needs a 3840x1080 screen but this X server allows at most 2048x2048; raise Xorg's Virtual size in xorg.conf"},
		{"bad mode", deskState, []OutputSpec{{Name: "HDMI1", Mode: "big"}},
			`output HDMI1: mode "big": want "preferred", "WxH" or "WxH@Hz"`},
		{"no preferred mode", deskState, []OutputSpec{{Name: "DP1", Force: true}},
			"output DP1: advertises no modes, so it has no preferred one"},
		{"two primaries", deskState, []OutputSpec{{Name: "HDMI1", Primary: true}, {Name: "HDMI2", Primary: true, RightOf: "HDMI1"}},
			"more than one output is marked primary"},
		{"listed twice", deskState, []OutputSpec{{Name: "HDMI1"}, {Name: "HDMI1"}}, "output HDMI1: listed twice"},
		{"empty layout", deskState, nil, "the layout lists no outputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := MakePlan(tt.st(), Layout{Outputs: tt.layout})
			if err == nil {
				t.Fatalf("planned %+v, want refusal %q", p, tt.want)
			}
			if !errors.Is(err, ErrLayout) {
				t.Errorf("error %v is not ErrLayout", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPlanOffAndUnchanged(t *testing.T) {
	st := deskState()
	r := newRecorder(st)
	layout := Layout{Outputs: []OutputSpec{{Name: "HDMI1", Primary: true}, {Name: "eDP1", RightOf: "HDMI1"}}}
	p, err := MakePlan(st, layout)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(r, p); err != nil {
		t.Fatal(err)
	}
	// Now only HDMI2: HDMI1 and eDP1 go off.
	p2, err := MakePlan(r.st, Layout{Outputs: []OutputSpec{{Name: "HDMI2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p2.Off, []string{"HDMI1", "eDP1"}) {
		t.Errorf("off %q, want HDMI1 and eDP1", p2.Off)
	}
	if len(p2.Disable) != 1 {
		t.Errorf("disable %v: want one CRTC (HDMI2 reuses HDMI1's CRTC, eDP1's goes off)", p2.Disable)
	}
	// The same layout again is unchanged.
	p3, err := MakePlan(r.st, layout)
	if err != nil {
		t.Fatal(err)
	}
	if !p3.Unchanged() {
		t.Errorf("re-planning the applied layout is not unchanged: %+v", p3)
	}
}

func TestXrandrCommands(t *testing.T) {
	p, err := MakePlan(deskState(), Layout{Outputs: []OutputSpec{
		{Name: "HDMI1", Primary: true},
		{Name: "HDMI2", RightOf: "HDMI1", Rotate: RotateLeft},
		{Name: "eDP1", Mode: "1280x720", Force: true, Below: "HDMI1"},
	}})
	if err == nil {
		t.Fatalf("3 outputs on 2 CRTCs planned: %+v", p)
	}
	p, err = MakePlan(deskState(), Layout{Outputs: []OutputSpec{
		{Name: "HDMI1", Primary: true},
		{Name: "eDP1", Mode: "1280x720", RightOf: "HDMI1", Rotate: RotateLeft},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := p.XrandrCommands()
	want := []string{
		`xrandr --newmode "1280x720_60.00" 74.50 1280 1344 1472 1664 720 723 728 748 -hsync +vsync`,
		`xrandr --addmode eDP1 1280x720_60.00`,
		`xrandr --fb 2640x1280 --output HDMI1 --mode 1920x1080 --rate 60.00 --pos 0x0 --rotate normal --primary --output eDP1 --mode 1280x720_60.00 --rate 59.86 --pos 1920x0 --rotate left`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseModeAndPos(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ModeRequest
		bad  bool
	}{
		{"", ModeRequest{Preferred: true}, false},
		{"preferred", ModeRequest{Preferred: true}, false},
		{"1920x1080", ModeRequest{Width: 1920, Height: 1080}, false},
		{"1920x1080@59.94", ModeRequest{Width: 1920, Height: 1080, Refresh: 59.94}, false},
		{"1920x", ModeRequest{}, true},
		{"0x1080", ModeRequest{}, true},
		{"1920x1080@", ModeRequest{}, true},
		{"1920x1080@fast", ModeRequest{}, true},
		{"99999x1", ModeRequest{}, true},
	} {
		got, err := ParseMode(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseMode(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if p, err := ParsePos("10,-20"); err != nil || p != (Point{X: 10, Y: -20}) {
		t.Errorf("ParsePos: %v %v", p, err)
	}
	if p, err := ParsePos("1920x0"); err != nil || p != (Point{X: 1920, Y: 0}) {
		t.Errorf("ParsePos xrandr style: %v %v", p, err)
	}
	for _, bad := range []string{"", "10", "a,b", "1,2,3"} {
		if _, err := ParsePos(bad); err == nil {
			t.Errorf("ParsePos(%q) accepted", bad)
		}
	}
}
