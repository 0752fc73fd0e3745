package ui

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/perchdesk/perch/api"
)

// status builds an agent status: link state "" means no link; sessions are
// name=state pairs.
func status(profile string, mode api.Mode, link api.LinkState, sess ...string) api.Status {
	st := api.Status{Profile: profile, Mode: mode, Profiles: []string{"desk", "couch"}}
	if link != "" {
		st.Link = &api.LinkStatus{Server: "quiet", State: link}
	}
	for _, s := range sess {
		name, state, _ := strings.Cut(s, "=")
		st.Sessions = append(st.Sessions, api.SessionStatus{Name: name, State: api.SessionState(state)})
	}
	return st
}

// labels renders a model as one string per item: separators "--",
// checked items "[x] ", disabled ones "(…)", with the action.
func labels(m Model) []string {
	var out []string
	for _, it := range m.Items {
		if it.Separator {
			out = append(out, "--")
			continue
		}
		l := it.Label
		if it.Checked {
			l = "[x] " + l
		}
		if it.Disabled {
			l = "(" + l + ")"
		}
		out = append(out, l)
	}
	return out
}

func TestPresent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		st    api.Status
		err   error
		caps  Caps
		icon  IconState
		items []string
		acts  map[string]Action // label → action, for some items
	}{
		{
			name: "no server", st: status("desk", api.ModeManual, ""),
			icon: IconDisconnected,
			items: []string{"(desk · no server)", "--", "Auto", "[x] desk", "couch", "--",
				"Apply layout", "Status…", "--", "Quit"},
			acts: map[string]Action{"couch": {ActSwitch, "couch"}, "Auto": {ActSwitch, "auto"},
				"Apply layout": {Kind: ActApply}, "Status…": {Kind: ActStatus}, "Quit": {Kind: ActQuit}},
		},
		{
			name: "connecting", st: status("desk", api.ModeManual, api.LinkConnecting, ":10=starting", ":11=starting"),
			icon: IconConnecting,
			items: []string{"(desk · quiet connecting)", "--", "Auto", "[x] desk", "couch", "--",
				"Connect", ":10: starting", ":11: starting", "--", "Apply layout", "Status…", "--", "Quit"},
			acts: map[string]Action{"Connect": {Kind: ActConnect}, ":11: starting": {ActRestart, ":11"}},
		},
		{
			name: "connected under auto", st: status("desk", api.ModeAuto, api.LinkUp, ":10=attached", "mail=attached"),
			icon: IconConnected,
			items: []string{"(desk (auto) · quiet connected)", "--", "[x] Auto (desk)", "desk", "couch", "--",
				"Reconnect", ":10: attached", "mail: attached", "--", "Apply layout", "Status…", "--", "Quit"},
			acts: map[string]Action{"Reconnect": {Kind: ActConnect}, "mail: attached": {ActRestart, "mail"}},
		},
		{
			name: "connected, disconnect supported", st: status("couch", api.ModeManual, api.LinkUp, ":10=attached"),
			caps: Caps{Disconnect: true}, icon: IconConnected,
			items: []string{"(couch · quiet connected)", "--", "Auto", "desk", "[x] couch", "--",
				"Disconnect", ":10: attached", "--", "Apply layout", "Status…", "--", "Quit"},
			acts: map[string]Action{"Disconnect": {Kind: ActDisconnect}},
		},
		{
			name: "degraded", st: status("desk", api.ModeManual, api.LinkUp, ":10=attached", ":11=backoff"),
			icon: IconDegraded,
			items: []string{"(desk · quiet connected, 1/2 attached)", "--", "Auto", "[x] desk", "couch", "--",
				"Reconnect", ":10: attached", ":11: backoff", "--", "Apply layout", "Status…", "--", "Quit"},
		},
		{
			name: "link down", st: status("desk", api.ModeManual, api.LinkDown, ":10=starting"),
			icon: IconConnecting,
			items: []string{"(desk · quiet reconnecting)", "--", "Auto", "[x] desk", "couch", "--",
				"Connect", ":10: starting", "--", "Apply layout", "Status…", "--", "Quit"},
		},
		{
			name: "link failed", st: status("desk", api.ModeManual, api.LinkFailed, ":10=failed"),
			icon: IconDisconnected,
			items: []string{"(desk · quiet failed)", "--", "Auto", "[x] desk", "couch", "--",
				"Connect", ":10: failed", "--", "Apply layout", "Status…", "--", "Quit"},
		},
		{
			name: "agent unreachable", err: errors.New("no perch agent is running\nmore"),
			icon:  IconDisconnected,
			items: []string{"(perch: no perch agent is running)", "--", "Status…", "--", "Quit"},
		},
		{
			name: "disconnected on request", st: func() api.Status {
				st := status("desk", api.ModeManual, "")
				st.Disconnected = true
				return st
			}(),
			icon: IconDisconnected,
			items: []string{"(desk · disconnected)", "--", "Auto", "[x] desk", "couch", "--",
				"Connect", "--", "Apply layout", "Status…", "--", "Quit"},
			acts: map[string]Action{"Connect": {Kind: ActConnect}},
		},
		{
			name: "no profile yet", st: api.Status{Mode: api.ModeManual},
			icon:  IconDisconnected,
			items: []string{"(no profile · no server)", "--", "Auto", "--", "(Apply layout)", "Status…", "--", "Quit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Present(tt.st, tt.err, tt.caps)
			if m.Icon != tt.icon {
				t.Errorf("icon = %v, want %v", m.Icon, tt.icon)
			}
			if got := labels(m); !reflect.DeepEqual(got, tt.items) {
				t.Errorf("items:\n got %q\nwant %q", got, tt.items)
			}
			for label, want := range tt.acts {
				found := false
				for _, it := range m.Items {
					if it.Label == label {
						found = true
						if it.Action != want {
							t.Errorf("%s: action %+v, want %+v", label, it.Action, want)
						}
					}
				}
				if !found {
					t.Errorf("no item %q", label)
				}
			}
		})
	}
}

func TestSessionLabel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    api.SessionStatus
		want string
	}{
		{api.SessionStatus{Name: ":10", State: "attached"}, ":10: attached"},
		{api.SessionStatus{Name: ":10", State: "backoff", Restarts: 1}, ":10: backoff, 1 restart"},
		{api.SessionStatus{Name: "mail", State: "starting", Restarts: 7}, "mail: starting, 7 restarts"},
	} {
		if got := SessionLabel(tt.s); got != tt.want {
			t.Errorf("SessionLabel(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestIconStateString(t *testing.T) {
	t.Parallel()
	want := []string{"disconnected", "connecting", "connected", "degraded"}
	for i, w := range want {
		if got := IconState(i).String(); got != w {
			t.Errorf("IconState(%d) = %q, want %q", i, got, w)
		}
	}
}
