package sessions

import "testing"

// TestLocalSpec: specs compare by value (a profile reloaded keeps its
// sessions), identities differ by location and none is xpra's default.
func TestLocalSpec(t *testing.T) {
	a, b := LocalDisplaySpec(10, []string{"--a", "--b"}, "desk"), LocalDisplaySpec(10, []string{"--a", "--b"}, "desk")
	if a != b || a.Name != ":10" || !a.Local.On {
		t.Errorf("%+v vs %+v", a, b)
	}
	if got := a.Local.args(); len(got) != 2 || got[1] != "--b" {
		t.Errorf("args %q", got)
	}
	sofa := LocalDisplaySpec(10, nil, "sofa")
	if sofa.Local.uuid() == a.Local.uuid() || len(a.Local.uuid()) != 40 || LocalDisplaySpec(10, nil, "").Local.uuid() != "" {
		t.Errorf("uuids %q %q", a.Local.uuid(), sofa.Local.uuid())
	}
	if sofa.Local.args() != nil {
		t.Errorf("no args: %q", sofa.Local.args())
	}
}
