package wlr_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/layout"
	"github.com/perchdesk/perch/wlr"
)

// sway is the headless sway the tests share.
var sway = testbed.Shared[*testbed.Sway]{What: "sway headless", Start: func() (*testbed.Sway, error) {
	return testbed.StartSway(2, swayConfig)
}}

func TestMain(m *testing.M) {
	testbed.StableEnv()
	code := m.Run()
	sway.Close()
	os.Exit(code)
}

const swayConfig = `output HEADLESS-1 mode --custom 1920x1080@60Hz
output HEADLESS-2 mode --custom 1280x1024@60Hz
`

func needSway(t *testing.T) *testbed.Sway {
	t.Helper()
	return sway.Get(t)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// swayOutputs is the oracle: sway's own view of its outputs through its
// IPC, one comparable string per output.
func swayOutputs(t *testing.T, s *testbed.Sway) string {
	t.Helper()
	outs, err := s.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, o := range outs {
		parts = append(parts, fmt.Sprintf("%s %dx%d@%d +%d+%d %dx%d %s", o.Name, o.CurrentMode.Width, o.CurrentMode.Height,
			o.CurrentMode.Refresh, o.Rect.X, o.Rect.Y, o.Rect.Width, o.Rect.Height, o.Transform))
	}
	return strings.Join(parts, ", ")
}

func TestSwayApply(t *testing.T) {
	s := needSway(t)
	b, err := wlr.Dial(ctx(t), s.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v := b.Version(); v < 2 {
		t.Errorf("sway 1.7 offers version 2 or later, bound %d", v)
	}
	// sway's IPC names a transform by the clockwise turn, wl_output by the
	// counter-clockwise one: perch's left (wl_output 90) is sway's "270".
	steps := []struct {
		name string
		outs []layout.OutputSpec
		want string
	}{
		{"left-of", []layout.OutputSpec{{Name: "HEADLESS-1", Mode: "1920x1080@60"}, {Name: "HEADLESS-2", Mode: "1280x1024@60", LeftOf: "HEADLESS-1"}},
			"HEADLESS-1 1920x1080@60000 +1280+0 1920x1080 normal, HEADLESS-2 1280x1024@60000 +0+0 1280x1024 normal"},
		{"rotate", []layout.OutputSpec{{Name: "HEADLESS-1", Mode: "1920x1080@60"}, {Name: "HEADLESS-2", Mode: "1280x1024@60", RightOf: "HEADLESS-1", Rotate: layout.RotateLeft}},
			"HEADLESS-1 1920x1080@60000 +0+0 1920x1080 normal, HEADLESS-2 1280x1024@60000 +1920+0 1024x1280 270"},
		{"rotate right, below", []layout.OutputSpec{{Name: "HEADLESS-1", Mode: "1920x1080@60", Rotate: layout.RotateRight}, {Name: "HEADLESS-2", Mode: "1280x1024@60", Below: "HEADLESS-1", Rotate: layout.RotateInverted}},
			"HEADLESS-1 1920x1080@60000 +0+0 1080x1920 90, HEADLESS-2 1280x1024@60000 +0+1920 1280x1024 180"},
		{"custom mode", []layout.OutputSpec{{Name: "HEADLESS-1", Mode: "1600x900@50"}, {Name: "HEADLESS-2", Mode: "1280x1024@60", RightOf: "HEADLESS-1"}},
			"HEADLESS-1 1600x900@50000 +0+0 1600x900 normal, HEADLESS-2 1280x1024@60000 +1600+0 1280x1024 normal"},
	}
	for _, st := range steps {
		sc, err := b.State(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		tg, err := layout.Plan(sc, layout.Layout{Outputs: st.outs})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(ctx(t), tg); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := swayOutputs(t, s); got != st.want {
			t.Errorf("%s: sway says %s, want %s", st.name, got, st.want)
		}
	}
}
