package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/perchdesk/perch/api"
)

// TestSummaryText: the status window's first paragraph names the profile
// and screen, says when a profile left the layout as it is, and shows the
// agent's and the profile's errors.
func TestSummaryText(t *testing.T) {
	st := api.Status{Profile: "sofa", Mode: api.ModeManual}
	st.Screen.Width, st.Screen.Height = 1280, 800
	for _, tc := range []struct {
		name string
		st   api.Status
		err  error
		want []string
		not  []string
	}{
		{"layout arranged", st, nil, []string{"Profile sofa (manual)", "screen 1280x800"}, []string{"left as it is"}},
		{"layout kept", func() api.Status { s := st; s.LayoutKept = true; return s }(), nil, []string{"layout left as it is"}, nil},
		{"no agent", api.Status{}, errors.New("no agent on the socket"), []string{"Agent: no agent on the socket"}, []string{"No profile"}},
		{"nothing running", api.Status{}, nil, []string{"No profile running"}, nil},
		{"profile error", func() api.Status { s := st; s.LastError = "hook failed"; return s }(), nil, []string{"Error: hook failed"}, nil},
	} {
		got := SummaryText(tc.st, tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q has %q", tc.name, got, w)
			}
		}
	}
}

// TestLinkTextLimit: the link's paragraph says when local xpra clients run
// with perch's bandwidth limit, and what the link carried.
func TestLinkTextLimit(t *testing.T) {
	link := &api.LinkStatus{}
	link.Server, link.State = "tower", "up"
	st := api.Status{Link: link}
	if got := LinkText(st); strings.Contains(got, "limited") {
		t.Errorf("no limit: %q", got)
	}
	link.XpraLimit, link.Carried = 3_800_000, 4_750_000
	if got, want := LinkText(st), "local xpra clients limited to 3.8 Mbit/s (the link was full at 4.8)"; !strings.Contains(got, want) {
		t.Errorf("%q lacks %q", got, want)
	}
}

// TestLinkTextXpra: the status window's link paragraph names the xpra
// versions on either end.
func TestLinkTextXpra(t *testing.T) {
	link := &api.LinkStatus{Server: "tower", State: "up", XpraServer: "6.5.3"}
	if got, want := LinkText(api.Status{Link: link}), "; xpra 6.5.3 on the server"; !strings.Contains(got, want) {
		t.Errorf("%q lacks %q", got, want)
	}
}
