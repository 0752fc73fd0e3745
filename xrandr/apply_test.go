package xrandr

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func mustPlan(t *testing.T, st *State, outs ...OutputSpec) *Plan {
	t.Helper()
	p, err := MakePlan(st, Layout{Outputs: outs})
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

// desk is the desk profile: HDMI1 primary, HDMI2 rotated left to
// its right.
var desk = []OutputSpec{{Name: "HDMI1", Primary: true}, {Name: "HDMI2", RightOf: "HDMI1", Rotate: RotateLeft}}

func TestApplyOrderAndRotation(t *testing.T) {
	st := deskState()
	r := newRecorder(st)
	if err := Apply(r, mustPlan(t, st, desk...)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"grab",
		"screen 3000x1920 792x507mm",
		"crtc 0x40 mode 0x50 0,0 normal [HDMI1]",
		"crtc 0x41 mode 0x50 1920,0 left [HDMI2]",
		"primary 0x60",
		"ungrab",
	}
	if !slices.Equal(r.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(r.calls, "\n"), strings.Join(want, "\n"))
	}

	// Applying the same layout again sends nothing at all.
	r.calls = nil
	if err := Apply(r, mustPlan(t, r.st, desk...)); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 0 {
		t.Errorf("second apply sent %q, want nothing", r.calls)
	}
}

func TestApplyShrinkTurnsOffWhatNoLongerFits(t *testing.T) {
	st := deskState()
	r := newRecorder(st)
	if err := Apply(r, mustPlan(t, st, OutputSpec{Name: "HDMI1"}, OutputSpec{Name: "HDMI2", RightOf: "HDMI1"})); err != nil {
		t.Fatal(err)
	}
	// HDMI2 alone at 1024x768: its CRTC (at 1920,0) does not fit the new
	// 1024x768 screen, so it goes off before the resize; HDMI1's goes off.
	r.calls = nil
	if err := Apply(r, mustPlan(t, r.st, OutputSpec{Name: "HDMI2", Mode: "1024x768"})); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"grab",
		"crtc 0x40 mode 0x0 0,0 normal []",
		"crtc 0x41 mode 0x0 0,0 normal []",
		"screen 1024x768 270x202mm",
		"crtc 0x41 mode 0x52 0,0 normal [HDMI2]",
		"ungrab",
	}
	if !slices.Equal(r.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(r.calls, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyChangedCrtcThatFitsStaysOn(t *testing.T) {
	st := deskState()
	r := newRecorder(st)
	if err := Apply(r, mustPlan(t, st, OutputSpec{Name: "HDMI1"}, OutputSpec{Name: "HDMI2", RightOf: "HDMI1"})); err != nil {
		t.Fatal(err)
	}
	// Same screen size, outputs swapped: both CRTCs change, neither goes off
	// first, the size is not set again.
	r.calls = nil
	if err := Apply(r, mustPlan(t, r.st, OutputSpec{Name: "HDMI1"}, OutputSpec{Name: "HDMI2", LeftOf: "HDMI1"})); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"grab",
		"crtc 0x40 mode 0x50 1920,0 normal [HDMI1]",
		"crtc 0x41 mode 0x50 0,0 normal [HDMI2]",
		"ungrab",
	}
	if !slices.Equal(r.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(r.calls, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyCreatesModesFirst(t *testing.T) {
	st := deskState()
	r := newRecorder(st)
	p := mustPlan(t, st, OutputSpec{Name: "eDP1", Mode: "1280x720"}, OutputSpec{Name: "HDMI1", Mode: "1600x1200", RightOf: "eDP1"})
	if err := Apply(r, p); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"create-mode 1280x720_60.00",
		"add-mode 0x62 0x901",
		"add-mode 0x60 0x53",
		"grab",
		"screen 2880x1200 761x317mm",
		"crtc 0x40 mode 0x901 0,0 normal [eDP1]",
		"crtc 0x41 mode 0x53 1280,0 normal [HDMI1]",
		"ungrab",
	}
	if !slices.Equal(r.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(r.calls, "\n"), strings.Join(want, "\n"))
	}
	// The created mode is found again: a second apply changes nothing.
	r.calls = nil
	if err := Apply(r, mustPlan(t, r.st, OutputSpec{Name: "eDP1", Mode: "1280x720"}, OutputSpec{Name: "HDMI1", Mode: "1600x1200", RightOf: "eDP1"})); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 0 {
		t.Errorf("second apply sent %q", r.calls)
	}
}

// TestApplyRestoresOnFailure fails every step of an apply in turn and
// checks that the configuration ends as it began, the error names the step,
// and the grab is released.
func TestApplyRestoresOnFailure(t *testing.T) {
	scenarios := []struct {
		name          string
		before, after []OutputSpec
		steps         []string
	}{
		{
			name:   "grow",
			before: []OutputSpec{{Name: "eDP1", Primary: true}, {Name: "HDMI1", RightOf: "eDP1"}},
			after:  desk,
			steps: []string{
				"grab the X server",
				"set the screen size to 3000x1920",
				"set output HDMI1 to 1920x1080 at 0,0 rotated normal",
				"set output HDMI2 to 1920x1080 at 1920,0 rotated left",
				"set the primary output to HDMI1",
			},
		},
		{
			name:   "shrink",
			before: desk,
			after:  []OutputSpec{{Name: "HDMI2", Mode: "1024x768"}},
			steps: []string{
				"grab the X server",
				"turn off CRTC 0x40",
				"turn off CRTC 0x41",
				"set the screen size to 1024x768",
				"set output HDMI2 to 1024x768 at 0,0 rotated normal",
				"set the primary output to none",
			},
		},
	}
	for _, sc := range scenarios {
		base := deskState()
		setup := newRecorder(base)
		if err := Apply(setup, mustPlan(t, base, sc.before...)); err != nil {
			t.Fatal(err)
		}
		before := setup.st
		for i, step := range sc.steps {
			t.Run(sc.name+"/"+step, func(t *testing.T) {
				r := newRecorder(before)
				r.failAt = i + 1
				err := Apply(r, mustPlan(t, before, sc.after...))
				var se *StepError
				if !errors.As(err, &se) {
					t.Fatalf("error %v, want a StepError", err)
				}
				if !errors.Is(err, errInjected) {
					t.Errorf("error %v does not wrap the cause", err)
				}
				if se.Step != step {
					t.Errorf("step %q, want %q", se.Step, step)
				}
				if i == 0 {
					if len(r.calls) != 1 {
						t.Errorf("a failed grab went on: %q", r.calls)
					}
					return
				}
				if !se.Restored || !strings.Contains(err.Error(), "restored") {
					t.Errorf("not restored: %v", err)
				}
				if last := r.calls[len(r.calls)-1]; last != "ungrab" {
					t.Errorf("last call %q, want ungrab", last)
				}
				assertSameLayout(t, r.st, before)
			})
		}
		t.Run(sc.name+"/ungrab", func(t *testing.T) {
			r := newRecorder(before)
			r.failAt = len(sc.steps) + 1
			err := Apply(r, mustPlan(t, before, sc.after...))
			var se *StepError
			if !errors.As(err, &se) || se.Step != "ungrab the X server" {
				t.Fatalf("error %v, want the ungrab step", err)
			}
		})
	}
}

func assertSameLayout(t *testing.T, got, want *State) {
	t.Helper()
	if got.Width != want.Width || got.Height != want.Height || got.MmWidth != want.MmWidth || got.MmHeight != want.MmHeight {
		t.Errorf("screen %dx%d (%dx%dmm), want %dx%d (%dx%dmm)", got.Width, got.Height, got.MmWidth, got.MmHeight,
			want.Width, want.Height, want.MmWidth, want.MmHeight)
	}
	if got.Primary != want.Primary {
		t.Errorf("primary 0x%x, want 0x%x", got.Primary, want.Primary)
	}
	for _, wc := range want.Crtcs {
		gc, _ := got.Crtc(wc.ID)
		if gc.Mode != wc.Mode || gc.X != wc.X || gc.Y != wc.Y || gc.Rotation != wc.Rotation || !slices.Equal(gc.Outputs, wc.Outputs) {
			t.Errorf("CRTC 0x%x: %+v, want %+v", wc.ID, *gc, wc)
		}
	}
}
