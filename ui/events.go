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
	add := func(notify bool, title, body string) {
		evs = append(evs, Event{Notify: notify, Title: title, Body: body})
	}
	if prev.Profile != cur.Profile || prev.Mode != cur.Mode {
		add(false, "Profile "+cur.Profile, string(cur.Mode))
	}
	if cur.LastError != "" && cur.LastError != prev.LastError {
		add(true, "perch", cur.LastError)
	}
	linkUp := cur.Link != nil && cur.Link.State == api.LinkUp
	switch {
	case cur.Link == nil:
		if prev.Link != nil {
			add(false, "Link to "+prev.Link.Server+" closed", "the profile has no server")
		}
	case prev.Link == nil || prev.Link.Server != cur.Link.Server:
		add(false, "Link to "+cur.Link.Server, LinkWord(cur.Link.State))
	case prev.Link.State != cur.Link.State:
		p, c := prev.Link.State, cur.Link.State
		switch {
		case p == api.LinkUp && (c == api.LinkDown || c == api.LinkConnecting || c == api.LinkFailed):
			add(true, "Link to "+cur.Link.Server+" dropped", orText(cur.Link.LastError, "reconnecting"))
		case c == api.LinkFailed:
			add(true, "Link to "+cur.Link.Server+" failed", orText(cur.Link.LastError, "perch will not retry by itself"))
		case c == api.LinkUp && (p == api.LinkDown || p == api.LinkFailed || cur.Link.Reconnects > 0):
			add(true, "Link to "+cur.Link.Server+" is back", fmt.Sprintf("reconnect %d", cur.Link.Reconnects))
		default:
			add(false, "Link to "+cur.Link.Server, LinkWord(c))
		}
	}
	before := map[string]api.SessionStatus{}
	for _, s := range prev.Sessions {
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
			add(linkUp, "Session "+s.Name+" failed", orText(firstLine(s.LastError), string(s.State)))
			continue
		}
		add(false, "Session "+s.Name, string(s.State))
	}
	for _, place := range places {
		add(true, "Your sessions moved to "+place, strings.Join(moved[place], ", ")+" (Bring here takes them back)")
	}
	return evs
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
