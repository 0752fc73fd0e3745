package ui

import (
	"reflect"
	"testing"

	"github.com/perchdesk/perch/api"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	up := status("desk", api.ModeManual, api.LinkUp, ":10=attached", ":11=attached")
	withErr := func(st api.Status, linkErr string, reconnects int) api.Status {
		l := *st.Link
		l.LastError, l.Reconnects = linkErr, reconnects
		st.Link = &l
		return st
	}
	sessErr := func(st api.Status, i int, err string) api.Status {
		st.Sessions[i].LastError = err
		return st
	}
	tests := []struct {
		name string
		prev *api.Status
		cur  api.Status
		want []string // "!" prefix: notified
	}{
		{name: "first status", prev: nil, cur: up},
		{name: "nothing changed", prev: &up, cur: up},
		{
			name: "link drops",
			prev: &up,
			cur:  withErr(status("desk", api.ModeManual, api.LinkDown, ":10=starting", ":11=starting"), "no keepalive reply", 0),
			want: []string{"!Link to quiet dropped: no keepalive reply", "Session :10: starting", "Session :11: starting"},
		},
		{
			name: "link comes back",
			prev: ptr(status("desk", api.ModeManual, api.LinkConnecting, ":10=starting", ":11=starting")),
			cur:  withErr(status("desk", api.ModeManual, api.LinkUp, ":10=starting", ":11=starting"), "", 1),
			want: []string{"!Link to quiet is back: reconnect 1"},
		},
		{
			name: "first connect is no news",
			prev: ptr(status("desk", api.ModeManual, api.LinkConnecting)),
			cur:  status("desk", api.ModeManual, api.LinkUp),
			want: []string{"Link to quiet: connected"},
		},
		{
			name: "link refused for good",
			prev: ptr(status("desk", api.ModeManual, api.LinkConnecting)),
			cur:  withErr(status("desk", api.ModeManual, api.LinkFailed), "host key mismatch", 0),
			want: []string{"!Link to quiet failed: host key mismatch"},
		},
		{
			name: "attached session exits",
			prev: &up,
			cur:  sessErr(status("desk", api.ModeManual, api.LinkUp, ":10=attached", ":11=backoff"), 1, "no session on :11\nmore"),
			want: []string{"!Session :11 failed: no session on :11"},
		},
		{
			name: "session attaches",
			prev: ptr(status("desk", api.ModeManual, api.LinkUp, ":10=starting")),
			cur:  status("desk", api.ModeManual, api.LinkUp, ":10=attached"),
			want: []string{"Session :10: attached"},
		},
		{
			name: "profile switch to a layout-only profile",
			prev: &up,
			cur:  status("couch", api.ModeAuto, ""),
			want: []string{"Profile couch: auto", "Link to quiet closed: the profile has no server"},
		},
		{
			name: "agent error",
			prev: &up,
			cur:  func() api.Status { s := up; s.LastError = "reload: bad file"; return s }(),
			want: []string{"!perch: reload: bad file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, e := range Transitions(tt.prev, tt.cur) {
				s := e.String()
				if e.Notify {
					s = "!" + s
				}
				got = append(got, s)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
