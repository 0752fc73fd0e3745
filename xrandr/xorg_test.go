package xrandr_test

// These tests run against a real Xorg with the dummy driver, started once
// for the package by TestMain (internal/testrig/testbed).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"

	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/xrandr"
)

var bed *testbed.Display

func TestMain(m *testing.M) {
	testbed.StableEnv()
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the real-X tests skip (dial)
	}
	var err error
	bed, err = testbed.StartXorg(testbed.XorgOptions{Connected: 3})
	if err != nil {
		testbed.Unavailable("Xorg with the dummy driver", err)
		bed = nil
	} else {
		bed.Setenv()
	}
	code := m.Run()
	if bed != nil {
		bed.Close()
	}
	os.Exit(code)
}

func dial(t *testing.T) *xrandr.Conn {
	t.Helper()
	testbed.SkipShort(t)
	if bed == nil {
		t.Skip("!!! no Xorg dummy server (see the message above): skipping a real-X test")
	}
	c, err := bed.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func state(t *testing.T, c *xrandr.Conn) *xrandr.State {
	t.Helper()
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func apply(t *testing.T, c *xrandr.Conn, outs ...xrandr.OutputSpec) *xrandr.Plan {
	t.Helper()
	p, err := xrandr.MakePlan(state(t, c), xrandr.Layout{Outputs: outs})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if err := xrandr.Apply(c, p); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p
}

// baseline puts the screen in a known state: DUMMY0 alone at 1024x768.
func baseline(t *testing.T, c *xrandr.Conn) {
	t.Helper()
	apply(t, c, xrandr.OutputSpec{Name: "DUMMY0", Mode: "1024x768@60", Primary: true})
}

// layoutOf is what a person sees of a state: the screen size and each
// output that is on, with mode, position, rotation and primary.
func layoutOf(st *xrandr.State) string {
	v := st.View()
	s := fmt.Sprintf("screen %dx%d", v.Width, v.Height)
	for _, o := range v.Outputs {
		if o.On {
			s += fmt.Sprintf("; %s %s@%.2f+%d+%d %s primary=%v", o.Name, o.Mode, o.Refresh, o.X, o.Y, o.Rotation, o.Primary)
		}
	}
	return s
}

func TestXorgApplyAndReadBack(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	apply(t, c,
		xrandr.OutputSpec{Name: "DUMMY0", Mode: "1024x768@60"},
		xrandr.OutputSpec{Name: "DUMMY1", Mode: "1280x1024@60", RightOf: "DUMMY0", Primary: true},
		xrandr.OutputSpec{Name: "DUMMY2", Mode: "800x600@60", Below: "DUMMY0"},
	)
	got := layoutOf(state(t, c))
	want := "screen 2304x1368; DUMMY0 1024x768@60.00+0+0 normal primary=false; " +
		"DUMMY1 1280x1024@60.02+1024+0 normal primary=true; DUMMY2 800x600@60.32+0+768 normal primary=false"
	if got != want {
		t.Errorf("read back:\n%s\nwant:\n%s", got, want)
	}
	// Back to one output: the others go off and the screen shrinks.
	baseline(t, c)
	if got, want := layoutOf(state(t, c)), "screen 1024x768; DUMMY0 1024x768@60.00+0+0 normal primary=true"; got != want {
		t.Errorf("after baseline: %s, want %s", got, want)
	}
}

func TestXorgSecondApplySendsNothing(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	layout := []xrandr.OutputSpec{
		{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		{Name: "DUMMY1", Mode: "1024x768@60", LeftOf: "DUMMY0"},
	}
	apply(t, c, layout...)
	before := state(t, c)
	c.Requests = 0
	p := apply(t, c, layout...)
	if !p.Unchanged() || c.Requests != 0 {
		t.Errorf("second apply: unchanged=%v, %d requests sent; want none", p.Unchanged(), c.Requests)
	}
	after := state(t, c)
	if after.Timestamp != before.Timestamp || after.ConfigTimestamp != before.ConfigTimestamp {
		t.Errorf("timestamps moved: %d/%d → %d/%d", before.Timestamp, before.ConfigTimestamp, after.Timestamp, after.ConfigTimestamp)
	}
	// A real change does move the timestamp (so the check above can fail).
	baseline(t, c)
	if moved := state(t, c); moved.Timestamp == before.Timestamp {
		t.Errorf("a real change left the timestamp at %d", moved.Timestamp)
	}
}

func TestXorgRefusalsChangeNothing(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	apply(t, c, xrandr.OutputSpec{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		xrandr.OutputSpec{Name: "DUMMY1", Mode: "800x600@60", RightOf: "DUMMY0"})
	tests := []struct {
		name   string
		layout []xrandr.OutputSpec
		want   string
	}{
		{"rotation", []xrandr.OutputSpec{{Name: "DUMMY0"}, {Name: "DUMMY1", Mode: "1024x768", RightOf: "DUMMY0", Rotate: xrandr.RotateLeft}},
			"output DUMMY1: rotation left is not supported by its CRTC (it supports: normal)"},
		{"unknown output", []xrandr.OutputSpec{{Name: "HDMI1"}},
			"output HDMI1: no such output (this screen has DUMMY0, DUMMY1, DUMMY2, DUMMY3,"},
		{"disconnected", []xrandr.OutputSpec{{Name: "DUMMY0"}, {Name: "DUMMY9", Mode: "1024x768", RightOf: "DUMMY0"}},
			"output DUMMY9: is disconnected; set force = true to use it anyway"},
		{"cycle", []xrandr.OutputSpec{{Name: "DUMMY0", Below: "DUMMY1"}, {Name: "DUMMY1", Mode: "1024x768", Above: "DUMMY0"}},
			"placement loop: DUMMY0, DUMMY1"},
		{"reference to an output that is off", []xrandr.OutputSpec{{Name: "DUMMY0", RightOf: "DUMMY2"}},
			"output DUMMY0: is placed right-of DUMMY2, which this layout turns off"},
		{"too large", []xrandr.OutputSpec{{Name: "DUMMY0", Mode: "20000x1000"}, {Name: "DUMMY1", Mode: "20000x1000", RightOf: "DUMMY0"}},
			"the layout needs a 40000x1000 screen but this X server allows at most 32767x32767; raise Xorg's Virtual"},
		{"bad mode", []xrandr.OutputSpec{{Name: "DUMMY0", Mode: "1024by768"}}, `output DUMMY0: mode "1024by768"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := state(t, c)
			c.Requests = 0
			_, err := xrandr.MakePlan(before, xrandr.Layout{Outputs: tt.layout})
			if err == nil || !errors.Is(err, xrandr.ErrLayout) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a refusal containing %q", err, tt.want)
			}
			after := state(t, c)
			if c.Requests != 0 || !reflect.DeepEqual(before.View(), after.View()) || before.Timestamp != after.Timestamp {
				t.Errorf("the screen changed after a refusal:\n%s\n%s", layoutOf(before), layoutOf(after))
			}
		})
	}
}

func TestXorgFailedStepRestores(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	apply(t, c, xrandr.OutputSpec{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		xrandr.OutputSpec{Name: "DUMMY1", Mode: "800x600@60", RightOf: "DUMMY0"})
	want := layoutOf(state(t, c))

	t.Run("server refuses the screen size", func(t *testing.T) {
		// 8192x8192 is within RandR's maximum but beyond the dummy's
		// VideoRam: SetScreenSize fails for real, after nothing else moved.
		st := state(t, c)
		p, err := xrandr.MakePlan(st, xrandr.Layout{Outputs: []xrandr.OutputSpec{
			{Name: "DUMMY0", Mode: "1024x768@60"},
			{Name: "DUMMY1", Mode: "1024x768@60", Pos: &xrandr.Point{X: 7168, Y: 7424}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		err = xrandr.Apply(c, p)
		var se *xrandr.StepError
		if !errors.As(err, &se) || se.Step != "set the screen size to 8192x8192" || !se.Restored {
			t.Fatalf("error %v, want a restored failure of the screen size step", err)
		}
		if got := layoutOf(state(t, c)); got != want {
			t.Errorf("after the failure:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("a CRTC fails in the middle", func(t *testing.T) {
		st := state(t, c)
		p, err := xrandr.MakePlan(st, xrandr.Layout{Outputs: []xrandr.OutputSpec{
			{Name: "DUMMY2", Mode: "1280x1024@60", Primary: true},
			{Name: "DUMMY0", Mode: "1024x768@60", RightOf: "DUMMY2"},
			{Name: "DUMMY1", Mode: "1024x768@60", RightOf: "DUMMY0"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		f := &failing{Conn: c, failCrtc: 2}
		err = xrandr.Apply(f, p)
		var se *xrandr.StepError
		if !errors.As(err, &se) || !strings.HasPrefix(se.Step, "set output DUMMY0") || !se.Restored {
			t.Fatalf("error %v, want a restored failure at DUMMY0", err)
		}
		if f.crtcCalls < 3 {
			t.Errorf("only %d CRTC calls: the failure did not happen in the middle", f.crtcCalls)
		}
		if got := layoutOf(state(t, c)); got != want {
			t.Errorf("after the failure:\n%s\nwant:\n%s", got, want)
		}
	})
}

// failing is the real connection with one CRTC change made to fail, after
// the earlier ones went through for real.
type failing struct {
	*xrandr.Conn
	failCrtc  int
	crtcCalls int
	failed    bool
}

func (f *failing) SetCrtc(id xrandr.CrtcID, x, y int, mode xrandr.ModeID, rot xrandr.Rotation, outs []xrandr.OutputID) error {
	f.crtcCalls++
	if !f.failed && mode != 0 {
		f.failCrtc--
		if f.failCrtc == 0 {
			f.failed = true
			return errors.New("injected: the monitor went away")
		}
	}
	return f.Conn.SetCrtc(id, x, y, mode, rot, outs)
}

func TestXorgCVTMode(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	st := state(t, c)
	p, err := xrandr.MakePlan(st, xrandr.Layout{Outputs: []xrandr.OutputSpec{
		{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		{Name: "DUMMY1", Mode: "1112x700", RightOf: "DUMMY0"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.NewModes) != 1 || !p.NewModes[0].Create || p.NewModes[0].Mode.Name != "1112x700_60.00" {
		t.Fatalf("new modes %+v, want 1112x700_60.00 created", p.NewModes)
	}
	if err := xrandr.Apply(c, p); err != nil {
		t.Fatal(err)
	}
	after := state(t, c)
	v := after.View()
	var on string
	for _, o := range v.Outputs {
		if o.Name == "DUMMY1" && o.On {
			on = fmt.Sprintf("%s %dx%d+%d+%d", o.Mode, o.Width, o.Height, o.X, o.Y)
		}
	}
	if on != "1112x700 1112x700+1024+0" {
		t.Errorf("DUMMY1 is %q, want the CVT mode at 1024,0", on)
	}
	ml, _ := xrandr.CVT(1112, 700, 60, false)
	var found bool
	for _, m := range after.Modes {
		if m.Name == ml.Name {
			found = true
			if m.HTotal != ml.HTotal || m.VTotal != ml.VTotal || m.DotClock != uint32(ml.Clock*1e6+0.5) {
				t.Errorf("mode on the server %+v differs from CVT %v", m, ml)
			}
		}
	}
	if !found {
		t.Errorf("mode %s not on the server", ml.Name)
	}
	// The same profile again reuses the mode and changes nothing.
	c.Requests = 0
	p2, err := xrandr.MakePlan(after, xrandr.Layout{Outputs: []xrandr.OutputSpec{
		{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		{Name: "DUMMY1", Mode: "1112x700", RightOf: "DUMMY0"},
	}})
	if err != nil || !p2.Unchanged() {
		t.Errorf("second plan: %v, unchanged=%v", err, p2 != nil && p2.Unchanged())
	}
	baseline(t, c)
}

func TestXorgEvents(t *testing.T) {
	c := dial(t)
	baseline(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	events, err := xrandr.Watch(ctx, bed.Name)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	apply(t, c, xrandr.OutputSpec{Name: "DUMMY0", Mode: "1024x768@60", Primary: true},
		xrandr.OutputSpec{Name: "DUMMY1", Mode: "800x600@60", RightOf: "DUMMY0"})
	seen := map[xrandr.EventKind]bool{}
	timeout := time.After(10 * time.Second)
	for !(seen[xrandr.ScreenChanged] && seen[xrandr.CrtcChanged] && seen[xrandr.OutputChanged]) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event channel closed early")
			}
			seen[ev.Kind] = true
			if ev.Kind == xrandr.ScreenChanged && ev.Width != 1824 {
				t.Errorf("screen event width %d, want 1824", ev.Width)
			}
		case <-timeout:
			t.Fatalf("events seen %v; want screen, crtc and output changes", seen)
		}
	}
	cancel()
	// The channel closes once the context ends.
	for {
		select {
		case _, ok := <-events:
			if !ok {
				baseline(t, c)
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("event channel not closed after cancel")
		}
	}
}

var benchLayouts = [2][]xrandr.OutputSpec{
	{{Name: "DUMMY0", Mode: "1280x1024@60", Primary: true}, {Name: "DUMMY1", Mode: "1024x768@60", RightOf: "DUMMY0"}},
	{{Name: "DUMMY0", Mode: "1024x768@60", Primary: true}, {Name: "DUMMY1", Mode: "1280x1024@60", LeftOf: "DUMMY0"}},
}

// BenchmarkApplyAlternating reads the state, plans and applies two layouts
// in turn on the real Xorg dummy: one full layout change per op.
func BenchmarkApplyAlternating(b *testing.B) {
	if bed == nil {
		b.Skip("!!! no Xorg dummy server")
	}
	c, err := bed.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Requests = 0
	for i := 0; b.Loop(); i++ {
		st, err := c.State()
		if err != nil {
			b.Fatal(err)
		}
		p, err := xrandr.MakePlan(st, xrandr.Layout{Outputs: benchLayouts[i%2]})
		if err != nil {
			b.Fatal(err)
		}
		if err := xrandr.Apply(c, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Requests)/float64(b.N), "requests/op")
}

// BenchmarkApplyUnchanged applies the layout already on screen: it must
// send no request at all.
func BenchmarkApplyUnchanged(b *testing.B) {
	if bed == nil {
		b.Skip("!!! no Xorg dummy server")
	}
	c, err := bed.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	apply := func() {
		st, err := c.State()
		if err != nil {
			b.Fatal(err)
		}
		p, err := xrandr.MakePlan(st, xrandr.Layout{Outputs: benchLayouts[0]})
		if err != nil {
			b.Fatal(err)
		}
		if err := xrandr.Apply(c, p); err != nil {
			b.Fatal(err)
		}
	}
	apply()
	c.Requests = 0
	for b.Loop() {
		apply()
	}
	b.ReportMetric(float64(c.Requests)/float64(b.N), "requests/op")
	if c.Requests != 0 {
		b.Errorf("%d requests sent re-applying the same layout", c.Requests)
	}
}

// TestXorgEDIDFingerprint gives DUMMY2 an EDID property (as a monitor's
// driver would) and reads its fingerprint back, through `perch outputs`'s
// path; outputs without EDID have none.
func TestXorgEDIDFingerprint(t *testing.T) {
	c := dial(t)
	edid := make([]byte, 256) // a base block and one extension
	copy(edid, []byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0})
	for i := 8; i < len(edid); i++ {
		edid[i] = byte(i * 7)
	}
	atom, err := xproto.InternAtom(c.X(), false, 4, "EDID").Reply()
	if err != nil {
		t.Fatal(err)
	}
	st := state(t, c)
	o, _ := st.Output("DUMMY2")
	// Longer than one 1 KiB read, to exercise the continuation.
	big := append(append([]byte{}, edid...), make([]byte, 1024)...)
	err = randr.ChangeOutputPropertyChecked(c.X(), randr.Output(o.ID), atom.Atom, xproto.AtomInteger, 8,
		xproto.PropModeReplace, uint32(len(big)), big).Check()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { randr.DeleteOutputProperty(c.X(), randr.Output(o.ID), atom.Atom) })
	st = state(t, c)
	o, _ = st.Output("DUMMY2")
	if o.Fingerprint != xrandr.Fingerprint(big) || len(o.Fingerprint) != 16 {
		t.Errorf("fingerprint %q, want %q", o.Fingerprint, xrandr.Fingerprint(big))
	}
	if d0, _ := st.Output("DUMMY0"); d0.Fingerprint != "" {
		t.Errorf("DUMMY0 has no EDID but fingerprint %q", d0.Fingerprint)
	}
	if got := st.Connected(); !strings.Contains(strings.Join(got, " "), o.Fingerprint) {
		t.Errorf("connected ids %q lack the fingerprint", got)
	}
	if xrandr.Fingerprint(big) == xrandr.Fingerprint(edid) {
		t.Error("different EDIDs share a fingerprint")
	}
}
