package wlr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/layout"
)

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func twoHeads() []*fakeHead {
	return []*fakeHead{
		{name: "DP-1", make: "Dell Inc.", model: "U2415", serial: "7MT0186", enabled: true, scale: 1,
			modes: []*fakeMode{{w: 1920, h: 1200, mhz: 59950, preferred: true}, {w: 1280, h: 1024, mhz: 75025}}},
		{name: "eDP-1", make: "BOE", model: "0x0747", enabled: true, x: 1920, transform: 1, scale: 2,
			modes: []*fakeMode{{w: 2560, h: 1600, mhz: 60000, preferred: true}}},
	}
}

func dialFake(t *testing.T, w *fakeWM) *Backend {
	t.Helper()
	b, err := Dial(testCtx(t), w.getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// line is the screen as one comparable line.
func line(sc *layout.Screen) string {
	var parts []string
	for _, o := range sc.Outputs {
		if !o.Enabled {
			parts = append(parts, o.Name+" off")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s+%d+%d %s x%g", o.Name, o.CurrentMode, o.X, o.Y, o.Rotation, o.Scale))
	}
	return strings.Join(parts, ", ")
}

func TestReadHeads(t *testing.T) {
	w := startFakeWM(t, 4, twoHeads()...)
	b := dialFake(t, w)
	sc, err := b.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := line(sc), "DP-1 1920x1200@59.95+0+0 normal x1, eDP-1 2560x1600@60.00+1920+0 left x2"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	dp := sc.Outputs[0]
	if len(dp.Modes) != 2 || !dp.Modes[0].Preferred || dp.Modes[1].Refresh != 75.025 || dp.Make != "Dell Inc." ||
		dp.Serial != "7MT0186" || dp.MmWidth != 600 || dp.Fingerprint() == "" || dp.Description != "DP-1 (fake)" {
		t.Errorf("DP-1: %+v", dp)
	}
	// Version 1 has no make, model or serial: no fingerprint, names only.
	w1 := startFakeWM(t, 1, twoHeads()...)
	sc1, err := dialFake(t, w1).State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if f := sc1.Outputs[0].Fingerprint(); f != "" || sc1.Outputs[0].Make != "" {
		t.Errorf("version 1: make %q fingerprint %q", sc1.Outputs[0].Make, f)
	}
}

func plan(t *testing.T, b *Backend, outs ...layout.OutputSpec) *layout.Target {
	t.Helper()
	sc, err := b.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := layout.Plan(sc, layout.Layout{Outputs: outs})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func state(t *testing.T, b *Backend) string {
	t.Helper()
	sc, err := b.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return line(sc)
}

func TestApplyDisableAndCustom(t *testing.T) {
	w := startFakeWM(t, 4, twoHeads()...)
	b := dialFake(t, w)
	steps := []struct {
		outs []layout.OutputSpec
		want string
	}{
		{[]layout.OutputSpec{{Name: "DP-1", Mode: "1280x1024"}}, "DP-1 1280x1024@75.03+0+0 normal x1, eDP-1 off"},
		// eDP-1 at scale 2: 1280x800 in the layout, DP-1 left of it.
		{[]layout.OutputSpec{{Name: "eDP-1"}, {Name: "DP-1", LeftOf: "eDP-1", Rotate: layout.RotateRight}},
			"DP-1 1920x1200@59.95+0+0 right x1, eDP-1 2560x1600@60.00+1200+0 normal x2"},
		{[]layout.OutputSpec{{Name: "DP-1", Mode: "1600x900@50"}, {Name: "eDP-1", Below: "DP-1"}},
			"DP-1 1600x900@50.00+0+0 normal x1, eDP-1 2560x1600@60.00+0+900 normal x2"},
	}
	for i, s := range steps {
		if err := b.Apply(testCtx(t), plan(t, b, s.outs...)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := state(t, b); got != s.want {
			t.Errorf("step %d: got %s, want %s", i, got, s.want)
		}
	}
	// An unchanged target sends nothing.
	_, before := w.counts()
	if err := b.Apply(testCtx(t), plan(t, b, steps[2].outs...)); err != nil {
		t.Fatal(err)
	}
	if _, after := w.counts(); after != before {
		t.Errorf("an unchanged layout was applied again")
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	heads := twoHeads()
	heads[1].cannotDisable = true
	w := startFakeWM(t, 4, heads...)
	w.refuse = func(s *fakeSet) bool { return s.transform == 2 }
	b := dialFake(t, w)
	before := state(t, b)
	check := func(name string, err error, isLayout bool) {
		t.Helper()
		var r *Refusal
		if !errors.As(err, &r) || errors.Is(err, layout.ErrLayout) != isLayout || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s: got %v", name, err)
		}
		if _, applies := w.counts(); applies != 0 {
			t.Errorf("%s: a refused layout was applied", name)
		}
		if got := state(t, b); got != before {
			t.Errorf("%s: the outputs changed: %s, were %s", name, got, before)
		}
	}
	check("disable", b.Apply(testCtx(t), plan(t, b, layout.OutputSpec{Name: "DP-1"})), true)
	check("rotation", b.Apply(testCtx(t), plan(t, b, layout.OutputSpec{Name: "DP-1", Rotate: layout.RotateInverted}, layout.OutputSpec{Name: "eDP-1", RightOf: "DP-1"})), true)
	stale := plan(t, b, layout.OutputSpec{Name: "DP-1"}, layout.OutputSpec{Name: "eDP-1", LeftOf: "DP-1"})
	w.plug(&fakeHead{name: "HDMI-A-1", scale: 1, modes: []*fakeMode{{w: 1024, h: 768, mhz: 60000}}})
	before = state(t, b)
	check("stale", b.Apply(testCtx(t), stale), false)
}

func TestWatchHotplug(t *testing.T) {
	w := startFakeWM(t, 4, twoHeads()...)
	b := dialFake(t, w)
	ctx := testCtx(t)
	changes, err := b.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func(what string) {
		t.Helper()
		select {
		case <-changes:
		case <-ctx.Done():
			t.Fatalf("no change reported after %s", what)
		}
	}
	w.plug(&fakeHead{name: "HDMI-A-1", make: "Acme", model: "X", serial: "1", enabled: true, x: 3200, scale: 1,
		modes: []*fakeMode{{w: 1024, h: 768, mhz: 60000, preferred: true}}})
	next("a plug")
	if got := state(t, b); !strings.Contains(got, "HDMI-A-1 1024x768@60.00+3200+0") {
		t.Errorf("after the plug: %s", got)
	}
	if err := w.unplug("DP-1"); err != nil {
		t.Fatal(err)
	}
	next("an unplug")
	if got := state(t, b); strings.HasPrefix(got, "DP-1") || strings.Count(got, ",") != 1 {
		t.Errorf("after the unplug: %s", got)
	}
}
