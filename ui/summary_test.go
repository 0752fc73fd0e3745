package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/perchdesk/perch/agent"
)

// TestSummaryText: the status window's first paragraph names the profile
// and screen, says when a profile left the layout as it is, and shows the
// agent's and the profile's errors.
func TestSummaryText(t *testing.T) {
	st := agent.Status{Profile: "sofa", Mode: agent.ModeManual}
	st.Screen.Width, st.Screen.Height = 1280, 800
	for _, tc := range []struct {
		name string
		st   agent.Status
		err  error
		want []string
		not  []string
	}{
		{"layout arranged", st, nil, []string{"Profile sofa (manual)", "screen 1280x800"}, []string{"left as it is"}},
		{"layout kept", func() agent.Status { s := st; s.LayoutKept = true; return s }(), nil, []string{"layout left as it is"}, nil},
		{"no agent", agent.Status{}, errors.New("no agent on the socket"), []string{"Agent: no agent on the socket"}, []string{"No profile"}},
		{"nothing running", agent.Status{}, nil, []string{"No profile running"}, nil},
		{"profile error", func() agent.Status { s := st; s.LastError = "hook failed"; return s }(), nil, []string{"Error: hook failed"}, nil},
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
