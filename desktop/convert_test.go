package desktop

import (
	"testing"

	"github.com/perchdesk/perch/layout"
)

func TestStateOf(t *testing.T) {
	sc := &layout.Screen{Backend: "wlroots", CustomModes: true, Outputs: []layout.Output{
		{Name: "DP-1", Make: "Dell Inc.", Model: "U2415", Serial: "7MT", Enabled: true, Current: 1, X: 1280, Scale: 1,
			Rotation: layout.RotateNormal, Primary: true, Modes: []layout.Mode{
				{Width: 1280, Height: 1024, Refresh: 75.025}, {Width: 1920, Height: 1200, Refresh: 59.95, Preferred: true}}},
		{Name: "eDP-1", Enabled: true, Current: -1, Scale: 2, Rotation: layout.RotateLeft,
			CurrentMode: layout.Mode{Width: 2560, Height: 1600, Refresh: 60}},
		{Name: "HDMI-A-1", Current: -1, Modes: []layout.Mode{{Width: 1024, Height: 768, Refresh: 60}}},
	}}
	st := StateOf(sc)
	v := st.View()
	dp, edp, hdmi := v.Outputs[0], v.Outputs[1], v.Outputs[2]
	// The preferred mode comes first, and is the current one.
	if len(dp.Modes) != 2 || !dp.Modes[0].Preferred || !dp.Modes[0].Current || dp.Modes[0].Refresh != 59.95 ||
		dp.Mode != "1920x1200" || dp.X != 1280 || !dp.Primary || dp.Fingerprint == "" {
		t.Errorf("DP-1: %+v", dp)
	}
	// A custom mode shows as the current one; rotation and scale make the
	// footprint.
	if !edp.On || edp.Mode != "2560x1600" || edp.Width != 800 || edp.Height != 1280 || edp.Rotation != "left" || edp.Fingerprint != "" {
		t.Errorf("eDP-1: %+v", edp)
	}
	if hdmi.On || hdmi.Connection != "connected" {
		t.Errorf("HDMI-A-1: %+v", hdmi)
	}
	if st.Width != 3200 || st.Height != 1280 {
		t.Errorf("layout %dx%d", st.Width, st.Height)
	}
	if got := st.Connected(); len(got) != 4 { // three names, one fingerprint
		t.Errorf("connected: %v", got)
	}

	// The same layout planned again is unchanged as a RandR plan too;
	// another one is not, and names what goes off.
	tg, err := layout.Plan(sc, layout.Layout{Outputs: []layout.OutputSpec{{Name: "DP-1", Pos: &layout.Point{X: 1280}},
		{Name: "eDP-1", Mode: "2560x1600@60", Rotate: layout.RotateLeft}}})
	if err != nil {
		t.Fatal(err)
	}
	tg.On[1].Changed = false // a custom mode is always sent again
	if p := PlanOf(tg, st); !p.Unchanged() {
		t.Errorf("the layout on screen planned as a change: %+v", p)
	}
	tg, err = layout.Plan(sc, layout.Layout{Outputs: []layout.OutputSpec{{Name: "HDMI-A-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := PlanOf(tg, st)
	if p.Unchanged() || len(p.Off) != 2 || len(p.Crtcs) != 1 || p.Crtcs[0].Mode.Name != "1024x768" || p.Crtcs[0].Mode.ID == 0 {
		t.Errorf("plan: %+v", p)
	}
}
