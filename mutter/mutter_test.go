package mutter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/layout"
	"github.com/perchdesk/perch/mutter"
)

// bed is the nested Mutter the tests share.
var bed = testbed.Shared[*testbed.Mutter]{What: "nested mutter", Start: func() (*testbed.Mutter, error) {
	return testbed.StartMutter(testbed.MutterOptions{Monitors: 2, Modes: "1920x1080:1280x1024:1024x768"})
}}

func TestMain(m *testing.M) {
	testbed.StableEnv()
	code := m.Run()
	bed.Close()
	os.Exit(code)
}

// dial starts the shared nested Mutter on first use and connects to it.
func dial(t *testing.T) *mutter.Backend {
	t.Helper()
	m := bed.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := mutter.DialBus(ctx, m.Bus.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// show is the screen as one comparable line: name mode+x+y rotation, or
// name off.
func show(sc *layout.Screen) string {
	var parts []string
	for _, o := range sc.Outputs {
		if !o.Enabled {
			parts = append(parts, o.Name+" off")
			continue
		}
		p := fmt.Sprintf("%s %dx%d+%d+%d %s", o.Name, o.CurrentMode.Width, o.CurrentMode.Height, o.X, o.Y, o.Rotation)
		if o.Primary {
			p += " primary"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func state(t *testing.T, b *mutter.Backend) *layout.Screen {
	t.Helper()
	sc, err := b.State(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// apply plans l on the current state, applies it and returns what Mutter
// reports afterwards.
func apply(t *testing.T, b *mutter.Backend, outs ...layout.OutputSpec) string {
	t.Helper()
	tg, err := layout.Plan(state(t, b), layout.Layout{Outputs: outs})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx(t), tg); err != nil {
		t.Fatal(err)
	}
	return show(state(t, b))
}

func baseline(t *testing.T, b *mutter.Backend) {
	t.Helper()
	got := apply(t, b, layout.OutputSpec{Name: "LVDS1", Primary: true}, layout.OutputSpec{Name: "LVDS2", RightOf: "LVDS1"})
	if want := "LVDS1 1920x1080+0+0 normal primary, LVDS2 1920x1080+1920+0 normal"; got != want {
		t.Fatalf("baseline: got %s, want %s", got, want)
	}
}

func TestMutterState(t *testing.T) {
	b := dial(t)
	baseline(t, b)
	sc := state(t, b)
	if len(sc.Outputs) != 2 || sc.Serial == 0 {
		t.Fatalf("state: %+v", sc)
	}
	o := sc.Outputs[0]
	if o.Name != "LVDS1" || o.Make != "MetaProducts Inc." || o.Serial != "0xC0FFEE-1" || len(o.Modes) != 3 ||
		o.Modes[o.Current].Width != 1920 || !o.Modes[o.Current].Preferred || o.Fingerprint() == "" {
		t.Errorf("LVDS1: %+v", o)
	}
	if sc.Outputs[0].Fingerprint() == sc.Outputs[1].Fingerprint() {
		t.Error("two monitors with different serials share a fingerprint")
	}
}

func TestMutterApply(t *testing.T) {
	b := dial(t)
	baseline(t, b)
	steps := []struct {
		name string
		outs []layout.OutputSpec
		want string
	}{
		{"move", []layout.OutputSpec{{Name: "LVDS1"}, {Name: "LVDS2", LeftOf: "LVDS1", Primary: true}},
			"LVDS1 1920x1080+1920+0 normal, LVDS2 1920x1080+0+0 normal primary"},
		{"rotate", []layout.OutputSpec{{Name: "LVDS1", Primary: true}, {Name: "LVDS2", RightOf: "LVDS1", Rotate: layout.RotateLeft}},
			"LVDS1 1920x1080+0+0 normal primary, LVDS2 1920x1080+1920+0 left"},
		{"rotate right, below", []layout.OutputSpec{{Name: "LVDS1", Primary: true, Rotate: layout.RotateRight}, {Name: "LVDS2", Below: "LVDS1", Rotate: layout.RotateInverted}},
			"LVDS1 1920x1080+0+0 right primary, LVDS2 1920x1080+0+1920 inverted"},
		{"mode", []layout.OutputSpec{{Name: "LVDS1", Mode: "1280x1024", Primary: true}, {Name: "LVDS2", RightOf: "LVDS1", Mode: "1024x768@60"}},
			"LVDS1 1280x1024+0+0 normal primary, LVDS2 1024x768+1280+0 normal"},
		{"disable", []layout.OutputSpec{{Name: "LVDS2", Primary: true}},
			"LVDS1 off, LVDS2 1920x1080+0+0 normal primary"},
		{"re-enable", []layout.OutputSpec{{Name: "LVDS1", Primary: true}, {Name: "LVDS2", Above: "LVDS1"}},
			"LVDS1 1920x1080+0+1080 normal primary, LVDS2 1920x1080+0+0 normal"},
	}
	for _, s := range steps {
		if got := apply(t, b, s.outs...); got != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
	}
	// The rotated monitor's footprint is what its neighbour is placed by.
	got := apply(t, b, layout.OutputSpec{Name: "LVDS1", Rotate: layout.RotateLeft, Primary: true}, layout.OutputSpec{Name: "LVDS2", RightOf: "LVDS1"})
	if want := "LVDS1 1920x1080+0+0 left primary, LVDS2 1920x1080+1080+0 normal"; got != want {
		t.Errorf("footprint: got %s, want %s", got, want)
	}
}

// refused applies a hand-made target that Mutter must refuse and checks
// that nothing changed.
func refused(t *testing.T, b *mutter.Backend, tg *layout.Target, kind string) error {
	t.Helper()
	before := show(state(t, b))
	err := b.Apply(ctx(t), tg)
	t.Logf("%s: %v", kind, err)
	var r *mutter.Refusal
	if !errors.As(err, &r) || r.Kind != kind || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("want a %q refusal, got %v", kind, err)
	}
	if after := show(state(t, b)); after != before {
		t.Errorf("a refused layout changed the screen: %s, was %s", after, before)
	}
	return err
}

func TestMutterRefusals(t *testing.T) {
	b := dial(t)
	baseline(t, b)
	plan := func(outs ...layout.OutputSpec) *layout.Target {
		tg, err := layout.Plan(state(t, b), layout.Layout{Outputs: outs})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	gap := plan(layout.OutputSpec{Name: "LVDS1"}, layout.OutputSpec{Name: "LVDS2", RightOf: "LVDS1"})
	gap.On[1].X, gap.On[1].Changed = 2500, true
	if err := refused(t, b, gap, "not adjacent"); !errors.Is(err, layout.ErrLayout) {
		t.Errorf("not adjacent is a refused layout (exit 2): %v", err)
	}

	// Mutter's serial moves on when it reads the hardware again (a
	// monitor comes or goes), not when a configuration is applied: a
	// state from before a hotplug is one with another serial.
	stale := plan(layout.OutputSpec{Name: "LVDS1"}, layout.OutputSpec{Name: "LVDS2", LeftOf: "LVDS1"})
	old := *stale.Before
	old.Serial--
	stale.Before = &old
	if err := refused(t, b, stale, "stale"); errors.Is(err, layout.ErrLayout) {
		t.Errorf("a stale serial is no fault of the profile: %v", err)
	}

	unknown := plan(layout.OutputSpec{Name: "LVDS1", Primary: true}, layout.OutputSpec{Name: "LVDS2", Below: "LVDS1", Mode: "1024x768"})
	unknown.On[1].Mode.ID = "800x600@60.000"
	refused(t, b, unknown, "mode")

	// A mode the monitor does not list is refused by perch's planner,
	// naming what it has.
	_, err := layout.Plan(state(t, b), layout.Layout{Outputs: []layout.OutputSpec{{Name: "LVDS1", Mode: "1600x900"}}})
	if !errors.Is(err, layout.ErrLayout) || !strings.Contains(err.Error(), "1280x1024@60.00") {
		t.Errorf("unlisted mode: %v", err)
	}
}

func TestMutterWatch(t *testing.T) {
	b := dial(t)
	baseline(t, b)
	changes, err := b.Watch(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, b, layout.OutputSpec{Name: "LVDS1", Primary: true}, layout.OutputSpec{Name: "LVDS2", LeftOf: "LVDS1"})
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("no MonitorsChanged within 10s of a change")
	}
}
