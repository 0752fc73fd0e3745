package ui

import (
	"fmt"
	"strings"

	"github.com/perchdesk/perch/api"
)

// IconState is what the tray icon shows.
type IconState int

// The tray icon's states.
const (
	IconDisconnected IconState = iota // no link (none configured, failed, stopped) or no agent
	IconConnecting                    // the link is being established or re-established
	IconConnected                     // the link is up and every session is attached
	IconDegraded                      // the link is up but some session is not attached
)

func (s IconState) String() string {
	switch s {
	case IconConnecting:
		return "connecting"
	case IconConnected:
		return "connected"
	case IconDegraded:
		return "degraded"
	default:
		return "disconnected"
	}
}

// ActionKind is what a menu item does.
type ActionKind int

// Menu actions.
const (
	ActNone       ActionKind = iota
	ActSwitch                // switch to the profile Arg (or "auto")
	ActConnect               // (re)establish the link now
	ActDisconnect            // drop the link (needs a back end that can)
	ActRestart               // restart the session Arg
	ActApply                 // apply the current profile's layout again
	ActStatus                // open the status window
	ActQuit                  // quit the tray
	ActTake                  // bring the session Arg here ("": all of them)
)

// Action is a menu item's action and its argument.
type Action struct {
	Kind ActionKind
	Arg  string
}

// Item is one line of the tray menu.
type Item struct {
	Label     string
	Checked   bool
	Disabled  bool
	Separator bool
	Action    Action
}

// Model is the tray as the presenter computes it: the icon and the menu.
type Model struct {
	Icon  IconState
	Title string
	Items []Item
}

// Caps are what the back end can do beyond the Backend interface.
type Caps struct {
	// Disconnect is true when the back end can drop the link on request.
	Disconnect bool
}

// Present turns the agent's status (or the error reading it) into the
// tray's model.
func Present(st api.Status, err error, caps Caps) Model {
	if err != nil {
		return Model{
			Icon:  IconDisconnected,
			Title: "perch: " + firstLine(err.Error()),
			Items: []Item{
				{Label: "perch: " + firstLine(err.Error()), Disabled: true},
				{Separator: true},
				{Label: "Status…", Action: Action{Kind: ActStatus}},
				{Separator: true},
				{Label: "Quit", Action: Action{Kind: ActQuit}},
			},
		}
	}
	m := Model{Icon: Icon(st), Title: Title(st)}
	add := func(it Item) { m.Items = append(m.Items, it) }
	sep := func() { add(Item{Separator: true}) }

	add(Item{Label: m.Title, Disabled: true})
	sep()
	auto := st.Mode == api.ModeAuto
	autoLabel := "Auto"
	if auto && st.Profile != "" {
		autoLabel = fmt.Sprintf("Auto (%s)", st.Profile)
	}
	add(Item{Label: autoLabel, Checked: auto, Action: Action{Kind: ActSwitch, Arg: "auto"}})
	for _, p := range st.Profiles {
		add(Item{Label: p, Checked: !auto && p == st.Profile, Action: Action{Kind: ActSwitch, Arg: p}})
	}
	sep()
	if st.Link == nil && st.Disconnected {
		add(Item{Label: "Connect", Action: Action{Kind: ActConnect}})
		sep()
	}
	if st.Link != nil {
		switch {
		case st.Link.State != api.LinkUp:
			add(Item{Label: "Connect", Action: Action{Kind: ActConnect}})
		case caps.Disconnect:
			add(Item{Label: "Disconnect", Action: Action{Kind: ActDisconnect}})
		default:
			add(Item{Label: "Reconnect", Action: Action{Kind: ActConnect}})
		}
		elsewhere := false
		for _, s := range st.Sessions {
			if s.State == api.SessionElsewhere {
				elsewhere = true
				add(Item{Label: SessionLabel(s), Action: Action{Kind: ActTake, Arg: s.Name}})
				continue
			}
			add(Item{Label: SessionLabel(s), Action: Action{Kind: ActRestart, Arg: s.Name}})
		}
		if elsewhere {
			add(Item{Label: "Bring here", Action: Action{Kind: ActTake}})
		}
		sep()
	}
	add(Item{Label: "Apply layout", Disabled: st.Profile == "", Action: Action{Kind: ActApply}})
	add(Item{Label: "Status…", Action: Action{Kind: ActStatus}})
	sep()
	add(Item{Label: "Quit", Action: Action{Kind: ActQuit}})
	return m
}

// Icon is the tray icon's state for st.
func Icon(st api.Status) IconState {
	if st.Link == nil {
		return IconDisconnected
	}
	switch st.Link.State {
	case api.LinkConnecting, api.LinkDown:
		return IconConnecting
	case api.LinkUp:
		for _, s := range st.Sessions {
			// Elsewhere is where the person put it: nothing is wrong.
			if s.State != api.SessionAttached && s.State != api.SessionElsewhere {
				return IconDegraded
			}
		}
		return IconConnected
	default:
		return IconDisconnected
	}
}

// LinkWord says the link's state for people.
func LinkWord(state api.LinkState) string {
	switch state {
	case api.LinkUp:
		return "connected"
	case api.LinkConnecting:
		return "connecting"
	case api.LinkDown:
		return "reconnecting"
	case api.LinkFailed:
		return "failed"
	case api.LinkStopped:
		return "stopped"
	case "":
		return "unknown"
	default:
		return string(state)
	}
}

// Title is the menu's first line: the profile and the link's state.
func Title(st api.Status) string {
	prof := st.Profile
	if prof == "" {
		prof = "no profile"
	}
	if st.Mode == api.ModeAuto {
		prof += " (auto)"
	}
	if st.Link == nil && st.Disconnected {
		return prof + " · disconnected"
	}
	if st.Link == nil {
		return prof + " · no server"
	}
	t := fmt.Sprintf("%s · %s %s", prof, st.Link.Server, LinkWord(st.Link.State))
	if st.Link.State == api.LinkUp && len(st.Sessions) > 0 {
		n := 0
		for _, s := range st.Sessions {
			if s.State == api.SessionAttached {
				n++
			}
		}
		if n < len(st.Sessions) {
			t += fmt.Sprintf(", %d/%d attached", n, len(st.Sessions))
		}
	}
	return t
}

// SessionLabel is a session's menu item: its name, state (or where it is)
// and restarts.
func SessionLabel(s api.SessionStatus) string {
	l := fmt.Sprintf("%s: %s", s.Name, s.State)
	if s.State == api.SessionElsewhere {
		l = fmt.Sprintf("%s: %s (click: bring here)", s.Name, s.Where())
	}
	switch {
	case s.Restarts == 1:
		l += ", 1 restart"
	case s.Restarts > 1:
		l += fmt.Sprintf(", %d restarts", s.Restarts)
	}
	return l
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	const max = 100
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
