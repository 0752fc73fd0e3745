package ui

import (
	"fmt"
	"strings"

	"github.com/perchdesk/perch/api"
)

// Event is a change between two statuses worth a log line; Notify marks
// the ones worth a desktop notification (the link dropped or came back, a
// session failed).
type Event struct {
	Notify bool
	Title  string
	Body   string
}

// String is the event as a log line.
func (e Event) String() string {
	if e.Body == "" {
		return e.Title
	}
	return e.Title + ": " + e.Body
}

// Transitions lists what changed from prev to cur. A nil prev (the first
// status seen) gives none. Session failures while the link is not up are
// not notified: the link's own event covers them.
func Transitions(prev *api.Status, cur api.Status) []Event {
	if prev == nil {
		return nil
	}
	var evs []Event
	if prev.Profile != cur.Profile || prev.Mode != cur.Mode {
		evs = append(evs, Event{Title: "Profile " + cur.Profile, Body: string(cur.Mode)})
	}
	if cur.LastError != "" && cur.LastError != prev.LastError {
		evs = append(evs, Event{Notify: true, Title: "perch", Body: cur.LastError})
	}
	if ev, ok := linkTransition(prev.Link, cur.Link); ok {
		evs = append(evs, ev)
	}
	return append(evs, sessionTransitions(prev.Sessions, cur)...)
}

// linkTransition is the link's event from prev to cur, if any.
func linkTransition(prev, cur *api.LinkStatus) (Event, bool) {
	switch {
	case cur == nil:
		if prev != nil {
			return Event{Title: "Link to " + prev.Server + " closed", Body: "the profile has no server"}, true
		}
	case prev == nil || prev.Server != cur.Server:
		return Event{Title: "Link to " + cur.Server, Body: LinkWord(cur.State)}, true
	case prev.State != cur.State:
		p, c := prev.State, cur.State
		switch {
		case p == api.LinkUp && (c == api.LinkDown || c == api.LinkConnecting || c == api.LinkFailed):
			return Event{Notify: true, Title: "Link to " + cur.Server + " dropped", Body: orText(cur.LastError, "reconnecting")}, true
		case c == api.LinkFailed:
			return Event{Notify: true, Title: "Link to " + cur.Server + " failed", Body: orText(cur.LastError, "perch will not retry by itself")}, true
		case c == api.LinkUp && (p == api.LinkDown || p == api.LinkFailed || cur.Reconnects > 0):
			return Event{Notify: true, Title: "Link to " + cur.Server + " is back", Body: fmt.Sprintf("reconnect %d", cur.Reconnects)}, true
		default:
			return Event{Title: "Link to " + cur.Server, Body: LinkWord(c)}, true
		}
	}
	return Event{}, false
}

// sessionTransitions are the sessions' events from prev to cur's: one per
// session whose state moved, failures notified while the link is up, and
// the sessions another location took as one notice per location.
func sessionTransitions(prev []api.SessionStatus, cur api.Status) []Event {
	var evs []Event
	linkUp := cur.Link != nil && cur.Link.State == api.LinkUp
	before := map[string]api.SessionStatus{}
	for _, s := range prev {
		before[s.Name] = s
	}
	moved := map[string][]string{} // location: sessions that left for it
	var places []string
	for _, s := range cur.Sessions {
		p, ok := before[s.Name]
		if !ok || p.State == s.State {
			continue
		}
		if s.State == api.SessionElsewhere {
			if moved[s.HeldBy] == nil {
				places = append(places, s.HeldBy)
			}
			moved[s.HeldBy] = append(moved[s.HeldBy], s.Name)
			continue
		}
		failed := s.State == api.SessionFailed ||
			(p.State == api.SessionAttached && s.State == api.SessionBackoff)
		if failed {
			evs = append(evs, Event{Notify: linkUp, Title: "Session " + s.Name + " failed", Body: orText(firstLine(s.LastError), string(s.State))})
			continue
		}
		evs = append(evs, Event{Title: "Session " + s.Name, Body: string(s.State)})
	}
	for _, place := range places {
		evs = append(evs, Event{Notify: true, Title: "Your sessions moved to " + place, Body: strings.Join(moved[place], ", ") + " (Bring here takes them back)"})
	}
	return evs
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
