package api

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStatusJSON pins the wire form: the typed states and durations
// marshal as the plain strings and milliseconds perch has always served.
func TestStatusJSON(t *testing.T) {
	since := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	st := Status{
		PID: 7, Profile: "desk", Mode: ModeAuto, Since: since,
		Link: &LinkStatus{Server: "quiet", State: LinkUp, Since: since, RTT: Duration(1500 * time.Microsecond)},
		Sessions: []SessionStatus{{Name: ":10", State: SessionElsewhere, Since: since, HeldBy: "sofa",
			Timings: SessionTimings{Start: Duration(2 * time.Millisecond)}}},
		Forwards: []ForwardStatus{},
		Screen:   Screen{Width: 1920, Height: 1080, Outputs: []OutputView{{Name: "DVI-D-0", On: true, Rotation: "normal"}}},
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pid":7,"config":"","location":"","profile":"desk","mode":"auto","since":"2026-12-01T14:00:00Z",` +
		`"link":{"server":"quiet","address":"","state":"up","since":"2026-12-01T14:00:00Z","rtt_ms":1.5,"reconnects":0,"x11_rejected":0,` +
		`"timings":{"tcp_ms":0,"handshake_ms":0,"auth_ms":0,"connect_ms":0,"x11_ready_ms":0}},` +
		`"sessions":[{"name":":10","command":"","state":"elsewhere","since":"2026-12-01T14:00:00Z","restarts":0,"held_by":"sofa",` +
		`"timings":{"start_ms":2,"first_x11_ms":0}}],"forwards":[],` +
		`"screen":{"width":1920,"height":1080,"outputs":[{"name":"DVI-D-0","connection":"","on":true,"primary":false,"x":0,"y":0,"rotation":"normal"}]},` +
		`"profiles":null}`
	if string(b) != want {
		t.Errorf("status JSON:\n got %s\nwant %s", b, want)
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil || back.Link.State != LinkUp || back.Sessions[0].State != SessionElsewhere ||
		back.Mode != ModeAuto || back.Link.RTT != st.Link.RTT {
		t.Errorf("round trip: %v %+v", err, back)
	}
	if w := back.Sessions[0].Where(); w != "at sofa" {
		t.Errorf("Where = %q", w)
	}
}

// TestWhere: an elsewhere session is "at" a location, or "held by another
// client".
func TestWhere(t *testing.T) {
	if w := (SessionStatus{HeldBy: "sofa"}).Where(); w != "at sofa" {
		t.Errorf("Where of sofa: %q", w)
	}
	if w := (SessionStatus{HeldBy: AnotherClient}).Where(); w != "held by another client" {
		t.Errorf("Where of another client: %q", w)
	}
}
