package sessions

import (
	"testing"

	"github.com/perchdesk/perch/sessions/xpraclient"
)

// TestLocalSpec: specs compare by value (a profile reloaded keeps its
// sessions), identities differ by location and none is xpra's default.
func TestLocalSpec(t *testing.T) {
	a, b := LocalDisplaySpec(10, []string{"--a", "--b"}, "desk"), LocalDisplaySpec(10, []string{"--a", "--b"}, "desk")
	if a != b || a.Name != ":10" || !a.Local.On {
		t.Errorf("%+v vs %+v", a, b)
	}
	if got := a.Local.Options(); len(got) != 2 || got[1] != "--b" {
		t.Errorf("args %q", got)
	}
	sofa := LocalDisplaySpec(10, nil, "sofa")
	if xpraclient.UUID(sofa.Local.Identity) == xpraclient.UUID(a.Local.Identity) || len(xpraclient.UUID(a.Local.Identity)) != 40 || xpraclient.UUID(LocalDisplaySpec(10, nil, "").Local.Identity) != "" {
		t.Errorf("uuids %q %q", xpraclient.UUID(a.Local.Identity), xpraclient.UUID(sofa.Local.Identity))
	}
	if sofa.Local.Options() != nil {
		t.Errorf("no args: %q", sofa.Local.Options())
	}
}
