package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/perchdesk/perch/api"
)

// elsewhereAt marks session i of st elsewhere, held by place.
func elsewhereAt(st api.Status, i int, place string) api.Status {
	st.Sessions = slices.Clone(st.Sessions)
	st.Sessions[i].State, st.Sessions[i].HeldBy = api.SessionElsewhere, place
	return st
}

// TestLocationsInTheTray: sessions at another location are "at sofa" (a
// click brings one), "Bring here" brings all, the icon stays connected,
// a notification says they moved, the status window says where they are.
func TestLocationsInTheTray(t *testing.T) {
	up := status("desk", api.ModeManual, api.LinkUp, ":10=attached", ":11=attached")
	away := elsewhereAt(elsewhereAt(up, 0, "sofa"), 1, "sofa")
	m := Present(away, nil, Caps{})
	var labels []string
	for _, it := range m.Items {
		labels = append(labels, it.Label)
		switch it.Label {
		case ":10: at sofa (click: bring here)":
			if it.Action != (Action{Kind: ActTake, Arg: ":10"}) {
				t.Errorf(":10's item does %+v", it.Action)
			}
		case "Bring here":
			if it.Action != (Action{Kind: ActTake}) {
				t.Errorf("Bring here does %+v", it.Action)
			}
		}
	}
	for _, want := range []string{":10: at sofa (click: bring here)", ":11: at sofa (click: bring here)", "Bring here"} {
		if !slices.Contains(labels, want) {
			t.Errorf("menu %q lacks %q", labels, want)
		}
	}
	if m.Icon != IconConnected {
		t.Errorf("icon %s with the sessions at the sofa, want connected", m.Icon)
	}
	if slices.Contains(labelsOf(Present(up, nil, Caps{})), "Bring here") {
		t.Error("Bring here offered with every session here")
	}
	evs := Transitions(&up, away)
	if len(evs) != 1 || !evs[0].Notify || evs[0].Title != "Your sessions moved to sofa" || evs[0].Body != ":10, :11 (Bring here takes them back)" {
		t.Errorf("events %+v", evs)
	}
	rows := SessionRows(away)
	if rows[0][1] != "elsewhere: at sofa" {
		t.Errorf("status window row %q", rows[0])
	}
}

func labelsOf(m Model) []string {
	var l []string
	for _, it := range m.Items {
		l = append(l, it.Label)
	}
	return l
}

// TestStatusWindowBringHere: an elsewhere session's row in the status
// window has a "Bring here" button that takes that session.
func TestStatusWindowBringHere(t *testing.T) {
	app := test.NewTempApp(t)
	var took []string
	w := newStatusWindow(app, func(a Action) {
		if a.Kind == ActTake {
			took = append(took, a.Arg)
		}
	}, NewEventList(linesShown))
	up := status("desk", api.ModeManual, api.LinkUp, ":10=attached", ":11=attached")
	w.update(elsewhereAt(up, 1, "sofa"), nil, nil)
	test.Tap(button(t, w.win, "Bring here"))
	if !slices.Equal(took, []string{":11"}) {
		t.Errorf("Bring here took %q, want :11", took)
	}
	w.update(up, nil, nil)
	n := 0
	walk(w.win.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Bring here" {
			n++
		}
	})
	if n != 0 {
		t.Errorf("%d Bring here buttons with every session here", n)
	}
}
