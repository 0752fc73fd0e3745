package layout

import (
	"errors"
	"strings"
	"testing"
)

func screen() *Screen {
	return &Screen{Backend: "GNOME (Mutter)", Outputs: []Output{
		{Name: "DP-1", Enabled: true, Current: 0, Scale: 1, Primary: true, Modes: []Mode{
			{ID: "a", Width: 1920, Height: 1080, Refresh: 60, Preferred: true}, {ID: "b", Width: 1280, Height: 1024, Refresh: 60}}},
		{Name: "eDP-1", Enabled: true, Current: 0, X: 1920, Scale: 2, Rotations: RotateNormal | RotateInverted, Modes: []Mode{
			{ID: "c", Width: 2560, Height: 1600, Refresh: 60, Preferred: true}}},
	}}
}

func TestPlanScreen(t *testing.T) {
	sc := screen()
	// What is on screen already: nothing changes.
	tg, err := Plan(sc, Layout{Outputs: []OutputSpec{{Name: "DP-1"}, {Name: "eDP-1", RightOf: "DP-1"}}})
	if err != nil || !tg.Unchanged() || tg.Width != 3200 || tg.Height != 1080 {
		t.Fatalf("unchanged: %+v %v", tg, err)
	}
	// The scaled output's footprint is its mode over its scale; the
	// primary is a change when it moves; an output left out goes off.
	tg, err = Plan(sc, Layout{Outputs: []OutputSpec{{Name: "eDP-1", Primary: true}, {Name: "DP-1", Below: "eDP-1", Mode: "1280x1024"}}})
	if err != nil {
		t.Fatal(err)
	}
	e, d := tg.On[0], tg.On[1]
	if e.W != 1280 || e.H != 800 || !e.Changed || d.Y != 800 || d.Mode.ID != "b" || !d.Changed || tg.Unchanged() {
		t.Errorf("scaled: %+v", tg.On)
	}
	tg, err = Plan(sc, Layout{Outputs: []OutputSpec{{Name: "DP-1"}}})
	if err != nil || len(tg.Off) != 1 || tg.Off[0] != "eDP-1" {
		t.Errorf("off: %+v %v", tg, err)
	}
	// In physical layout mode the scale does not shrink the footprint.
	sc.Physical = true
	if tg, err = Plan(sc, Layout{Outputs: []OutputSpec{{Name: "eDP-1"}}}); err != nil || tg.On[0].W != 2560 {
		t.Errorf("physical: %+v %v", tg, err)
	}
}

func TestPlanScreenRefusals(t *testing.T) {
	for _, c := range []struct {
		custom bool
		spec   OutputSpec
		want   string
	}{
		{false, OutputSpec{Name: "DP-1", Mode: "1600x900"}, "has no mode 1600x900 (it has 1920x1080@60.00, 1280x1024@60.00), and GNOME (Mutter) takes only"},
		{false, OutputSpec{Name: "eDP-1", Rotate: RotateLeft}, "rotation left is not supported (it supports: normal, inverted)"},
		{false, OutputSpec{Name: "DP-1", Mode: "big"}, `mode "big"`},
		{false, OutputSpec{Name: "HDMI-A-1"}, "no such output (this screen has DP-1, eDP-1)"},
	} {
		sc := screen()
		sc.CustomModes = c.custom
		_, err := Plan(sc, Layout{Outputs: []OutputSpec{c.spec}})
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.spec, err, c.want)
		}
	}
	// Where the compositor takes custom modes, an unlisted one is one.
	sc := screen()
	sc.CustomModes = true
	tg, err := Plan(sc, Layout{Outputs: []OutputSpec{{Name: "DP-1", Mode: "1600x900@50"}}})
	if err != nil || !tg.On[0].Custom || tg.On[0].Mode.Width != 1600 || tg.On[0].Mode.Refresh != 50 {
		t.Errorf("custom: %+v %v", tg, err)
	}
}
