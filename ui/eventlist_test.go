package ui

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/perchdesk/perch/api"
)

func TestHumanEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 14, 34, 51, 300e6, time.UTC)
	at := func(st api.Status, since time.Time) api.Status {
		for i := range st.Sessions {
			st.Sessions[i].Since = since
		}
		return st
	}
	starting := at(full(api.LinkConnecting, ":62=starting"), t0)
	up := at(full(api.LinkUp, ":62=starting"), t0)
	up.Link.Timings.Total = api.Duration(300 * time.Millisecond)
	attached := at(full(api.LinkUp, ":62=attached"), t0.Add(700*time.Millisecond))
	attached.Link.Timings = up.Link.Timings
	dropped := at(full(api.LinkDown, ":62=backoff"), t0.Add(5*time.Second))
	dropped.Link.LastError = "read: connection reset by peer"
	dropped.Sessions[0].LastError = "the link dropped"
	back := at(full(api.LinkUp, ":62=starting"), t0.Add(6*time.Second))
	back.Link.Reconnects = 1
	back.Link.Timings.Total = api.Duration(1200 * time.Millisecond)
	failed := at(full(api.LinkUp, ":62=failed"), t0.Add(7*time.Second))
	failed.Sessions[0].LastError = "xpra: no session\nmore"
	sofa := failed
	sofa.Profile, sofa.Mode, sofa.LastError = "sofa", api.ModeAuto, "hook after failed"
	for _, c := range []struct {
		name      string
		prev, cur api.Status
		first     bool
		want      []string
	}{
		{"first", api.Status{}, starting, true, []string{"profile desk (manual)", "link to quiet connecting"}},
		{"link up", starting, up, false, []string{"link to quiet connected (0.3 s)"}},
		{"attached", up, attached, false, []string{":62 attached (0.7 s)"}},
		{"dropped", attached, dropped, false, []string{"link to quiet dropped: read: connection reset by peer", ":62 ended, restarting: the link dropped"}},
		{"back", dropped, back, false, []string{"link to quiet back (reconnect 1, 1.2 s)", ":62 starting"}},
		{"failed", back, failed, false, []string{":62 failed: xpra: no session"}},
		{"profile", failed, sofa, false, []string{"profile sofa (auto)", "error: hook after failed"}},
		{"closed", sofa, func() api.Status { s := sofa; s.Link = nil; s.Sessions = nil; return s }(), false, []string{"link to quiet closed"}},
		{"nothing", attached, attached, false, nil},
	} {
		prev := &c.prev
		if c.first {
			prev = nil
		}
		if got := HumanEvents(prev, c.cur); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	l := NewEventList(2)
	l.Observe(&up, attached, time.Date(2026, 12, 1, 14, 34, 52, 0, time.Local))
	l.Observe(&attached, dropped, time.Date(2026, 12, 1, 14, 35, 0, 0, time.Local))
	want := []string{"14:35:00  link to quiet dropped: read: connection reset by peer", "14:35:00  :62 ended, restarting: the link dropped"}
	if got := l.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("lines kept: %q, want %q", got, want)
	}
}

// TestStatusWindowEvents: the status window lists what happened in words,
// from the tray's first status on (before it was opened), and each session
// row's Restart button restarts that session.
func TestStatusWindowEvents(t *testing.T) {
	t0 := time.Now()
	st := full(api.LinkUp, ":10=starting", ":11=attached")
	st.Sessions[0].Since = t0
	h := start(t, st, nil, true)
	st = full(api.LinkUp, ":10=attached", ":11=attached")
	st.Sessions[0].Since = t0.Add(700 * time.Millisecond)
	h.b.set(st, nil)
	h.wait()
	h.item("Status…").Action()
	w := h.tray.win
	if w == nil {
		t.Fatal("Status… opened no window")
	}
	line := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  :10 attached \(0\.7 s\)$`)
	if !line.MatchString(w.events.Text) {
		t.Errorf("recent events lack \"HH:MM:SS  :10 attached (0.7 s)\":\n%s", w.events.Text)
	}
	if strings.Contains(w.events.Text, "level=") || strings.Contains(w.events.Text, "msg=") {
		t.Errorf("recent events show raw log lines:\n%s", w.events.Text)
	}
	rows := w.sessions.Objects[len(sessionHeader):]
	restart := rows[2*len(sessionHeader)-1].(*fyne.Container).Objects[0].(*widget.Button) // :11's
	if restart.Text != "Restart" {
		t.Fatalf("the row's action is %q", restart.Text)
	}
	test.Tap(restart)
	h.wait()
	if calls := h.b.Calls(); len(calls) == 0 || calls[len(calls)-1] != "reconnect :11" {
		t.Errorf("Restart on :11's row: calls %q, want last \"reconnect :11\"", calls)
	}
}
