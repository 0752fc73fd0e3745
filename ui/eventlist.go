package ui

import (
	"fmt"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
)

// EventList keeps the recent changes of the agent's status as lines a
// person reads, for the status window: "14:34:52  :62 attached (0.7 s)".
// It is safe for concurrent use.
type EventList struct {
	max   int
	mu    sync.Mutex
	lines []string
}

// NewEventList keeps the last max lines (100 when max <= 0).
func NewEventList(max int) *EventList {
	if max <= 0 {
		max = 100
	}
	return &EventList{max: max}
}

// Observe adds what changed from prev to cur (prev nil: the first status
// seen), stamped with now.
func (l *EventList) Observe(prev *api.Status, cur api.Status, now time.Time) {
	evs := HumanEvents(prev, cur)
	if len(evs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs {
		l.lines = append(l.lines, now.Format("15:04:05")+"  "+e)
	}
	if n := len(l.lines) - l.max; n > 0 {
		l.lines = append(l.lines[:0:0], l.lines[n:]...)
	}
}

// Lines returns a copy of the lines kept, oldest first.
func (l *EventList) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// HumanEvents words what changed from prev to cur, one short line each:
// the profile, the agent's error, the link, each session. A nil prev (the
// first status seen) gives the profile and the link.
func HumanEvents(prev *api.Status, cur api.Status) []string {
	var evs []string
	add := func(format string, a ...any) { evs = append(evs, fmt.Sprintf(format, a...)) }
	if cur.Profile != "" && (prev == nil || prev.Profile != cur.Profile || prev.Mode != cur.Mode) {
		add("profile %s (%s)", cur.Profile, cur.Mode)
	}
	if cur.LastError != "" && (prev == nil || cur.LastError != prev.LastError) {
		add("error: %s", firstLine(cur.LastError))
	}
	var prevLink *api.LinkStatus
	if prev != nil {
		prevLink = prev.Link
	}
	if e := linkEvent(prevLink, cur.Link); e != "" {
		evs = append(evs, e)
	}
	if prev == nil {
		return evs
	}
	before := map[string]api.SessionStatus{}
	for _, s := range prev.Sessions {
		before[s.Name] = s
	}
	for _, s := range cur.Sessions {
		p, ok := before[s.Name]
		if ok && p.State == s.State {
			continue
		}
		evs = append(evs, sessionEvent(p, s, ok))
	}
	return evs
}

// linkEvent words a change of the link, "" for none.
func linkEvent(p, c *api.LinkStatus) string {
	switch {
	case c == nil && p != nil:
		return "link to " + p.Server + " closed"
	case c == nil:
		return ""
	case p == nil || p.Server != c.Server:
		return "link to " + c.Server + " " + LinkWord(c.State)
	case p.State == c.State:
		return ""
	}
	switch c.State {
	case api.LinkUp:
		if c.Reconnects > 0 {
			return fmt.Sprintf("link to %s back (reconnect %d%s)", c.Server, c.Reconnects, took(c.Timings.Total))
		}
		if t := took(c.Timings.Total); t != "" {
			return "link to " + c.Server + " connected (" + t[2:] + ")"
		}
		return "link to " + c.Server + " connected"
	case api.LinkDown, api.LinkFailed:
		word := "dropped"
		if c.State == api.LinkFailed {
			word = "failed"
		}
		if c.LastError != "" {
			return "link to " + c.Server + " " + word + ": " + firstLine(c.LastError)
		}
		return "link to " + c.Server + " " + word
	}
	return "link to " + c.Server + " " + LinkWord(c.State)
}

// sessionEvent words a session's new state; known says p is its previous
// status.
func sessionEvent(p, s api.SessionStatus, known bool) string {
	switch s.State {
	case api.SessionAttached:
		if known && !p.Since.IsZero() && s.Since.After(p.Since) {
			return fmt.Sprintf("%s attached (%s)", s.Name, seconds(s.Since.Sub(p.Since)))
		}
		return s.Name + " attached"
	case api.SessionBackoff:
		if s.LastError != "" {
			return s.Name + " ended, restarting: " + firstLine(s.LastError)
		}
		return s.Name + " ended, restarting"
	case api.SessionFailed:
		return s.Name + " failed: " + orText(firstLine(s.LastError), "it will not be restarted")
	case api.SessionStarting:
		return s.Name + " starting"
	}
	return s.Name + " " + string(s.State)
}

// took is ", 0.3 s" for a positive duration, else "".
func took(d api.Duration) string {
	if d <= 0 {
		return ""
	}
	return ", " + seconds(time.Duration(d))
}

// seconds shows a duration as "0.7 s" (tenths), "12 s" from 10 s on.
func seconds(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
