package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/perchdesk/perch/api"
)

// linesShown is how many recent events (and log lines) the status window
// shows.
const linesShown = 40

// statusWindow shows the whole status: the profile, a drawing of the
// layout, the link, the sessions with their actions, the recent events in
// words and, folded, the raw log.
type statusWindow struct {
	win       fyne.Window
	summary   *widget.Label
	screen    *screenView
	link      *widget.Label
	sessions  *fyne.Container // a grid: a header row, then a row per session
	events    *widget.Label
	eventsBox *container.Scroll
	log       *widget.Label
	// do runs a session row's action (the tray's menu actions).
	do func(Action)
	// recent is the list of events shown.
	recent *EventList
}

func newStatusWindow(app fyne.App, do func(Action), recent *EventList) *statusWindow {
	w := &statusWindow{
		win:      app.NewWindow("perch status"),
		summary:  widget.NewLabel(""),
		screen:   newScreenView(),
		link:     widget.NewLabel(""),
		sessions: container.NewGridWithColumns(len(sessionHeader)),
		events:   widget.NewLabel(""),
		log:      widget.NewLabel(""),
		do:       do,
		recent:   recent,
	}
	w.summary.Wrapping = fyne.TextWrapWord
	w.link.Wrapping = fyne.TextWrapWord
	w.events.TextStyle.Monospace = true
	w.log.TextStyle.Monospace = true
	w.eventsBox = container.NewScroll(w.events)
	w.eventsBox.SetMinSize(fyne.NewSize(0, 120))
	logBox := container.NewScroll(w.log)
	logBox.SetMinSize(fyne.NewSize(0, 120))
	top := container.NewVBox(
		w.summary,
		w.screen,
		widget.NewSeparator(),
		w.link,
		w.sessions,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Recent events", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
	)
	logs := widget.NewAccordion(widget.NewAccordionItem("Log", logBox))
	w.win.SetContent(container.NewBorder(top, logs, nil, nil, w.eventsBox))
	w.win.SetIcon(AppIcon())
	w.win.Resize(fyne.NewSize(760, 680))
	return w
}

// update shows st (or the error reading it), the recent events and the log
// lines. UI goroutine only.
func (w *statusWindow) update(st api.Status, err error, lines []string) {
	w.summary.SetText(SummaryText(st, err))
	w.screen.SetScreen(st.Screen)
	w.link.SetText(LinkText(st))
	rows := SessionRows(st)
	objs := make([]fyne.CanvasObject, 0, len(sessionHeader)*(len(rows)+1))
	for _, h := range sessionHeader {
		objs = append(objs, widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for i, row := range rows {
		for _, c := range row {
			l := widget.NewLabel(c)
			l.Truncation = fyne.TextTruncateEllipsis
			objs = append(objs, l)
		}
		objs = append(objs, w.actionButtons(st.Sessions[i]))
	}
	w.sessions.Objects = objs
	w.sessions.Hidden = len(rows) == 0
	w.sessions.Refresh()
	var events []string
	if w.recent != nil {
		events = w.recent.Lines()
	}
	w.events.SetText(strings.Join(lastN(events, linesShown), "\n"))
	w.eventsBox.ScrollToBottom()
	w.log.SetText(strings.Join(lastN(lines, linesShown), "\n"))
}

// actionButtons is a session row's last cell: a button per action.
func (w *statusWindow) actionButtons(s api.SessionStatus) fyne.CanvasObject {
	box := container.NewHBox()
	for _, it := range SessionActions(s) {
		act := it.Action
		b := widget.NewButton(it.Label, func() {
			if w.do != nil {
				w.do(act)
			}
		})
		b.Importance = widget.LowImportance
		box.Add(b)
	}
	return box
}

// SessionActions are the buttons of a session's row in the status window,
// as menu items: "Bring here" for a session held elsewhere, else Restart.
func SessionActions(s api.SessionStatus) []Item {
	if s.State == api.SessionElsewhere {
		return []Item{{Label: "Bring here", Action: Action{Kind: ActTake, Arg: s.Name}}}
	}
	return []Item{{Label: "Restart", Action: Action{Kind: ActRestart, Arg: s.Name}}}
}

func lastN(lines []string, n int) []string {
	if k := len(lines) - n; k > 0 {
		return lines[k:]
	}
	return lines
}

// SummaryText is the status window's first paragraph: the profile, its
// mode and age, the agent, and its last error.
func SummaryText(st api.Status, err error) string {
	var b strings.Builder
	if st.Profile != "" {
		fmt.Fprintf(&b, "Profile %s (%s)", st.Profile, st.Mode)
		if !st.Since.IsZero() {
			fmt.Fprintf(&b, " since %s", st.Since.Format("15:04:05"))
		}
		if st.Screen.Width > 0 {
			fmt.Fprintf(&b, ", screen %dx%d", st.Screen.Width, st.Screen.Height)
		}
		if st.LayoutKept {
			b.WriteString(", layout left as it is")
		}
		if st.PID > 0 {
			fmt.Fprintf(&b, "; agent pid %d, %s", st.PID, st.Config)
		}
	} else if err == nil {
		b.WriteString("No profile running")
	}
	if err != nil {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Agent: " + err.Error())
	}
	if st.LastError != "" {
		b.WriteString("\nError: " + st.LastError)
	}
	return b.String()
}

// LinkText describes the link: server, address, state, RTT, reconnects and
// connection timings.
func LinkText(st api.Status) string {
	l := st.Link
	if l == nil {
		return "Link: none (the profile has no server)"
	}
	s := fmt.Sprintf("Link to %s", l.Server)
	if l.Address != "" {
		s += " (" + l.Address + ")"
	}
	s += ": " + LinkWord(l.State)
	if !l.Since.IsZero() {
		s += " since " + l.Since.Format("15:04:05")
	}
	s += fmt.Sprintf(", RTT %s, %d reconnects", Millis(l.RTT), l.Reconnects)
	t := l.Timings
	if t.Total > 0 {
		s += fmt.Sprintf("; connect %s (TCP %s, handshake %s, auth %s)", Millis(t.Total), Millis(t.TCP), Millis(t.Handshake), Millis(t.Auth))
	}
	if l.X11Rejected > 0 {
		s += fmt.Sprintf("; %d X11 connections rejected", l.X11Rejected)
	}
	if v := l.XpraVersions(); v != "" {
		s += "; xpra " + v
	}
	if l.XpraLimit > 0 {
		s += fmt.Sprintf("; local xpra clients limited to %.1f Mbit/s (the link was full at %.1f)", float64(l.XpraLimit)/1e6, float64(l.Carried)/1e6)
	}
	if l.LastError != "" {
		s += "\nLast error: " + l.LastError
	}
	return s
}

var sessionHeader = []string{"Session", "State", "Restarts", "Start", "First X11", "Last error", ""}

// SessionRows are the sessions table's rows, one per session, in the
// columns of sessionHeader but the last (the actions).
func SessionRows(st api.Status) [][]string {
	rows := make([][]string, 0, len(st.Sessions))
	for _, s := range st.Sessions {
		state, last := string(s.State), firstLine(s.LastError)
		if s.State == api.SessionElsewhere {
			state = "elsewhere: " + s.Where()
			last = "since " + s.Since.Format("15:04:05")
		}
		rows = append(rows, []string{
			s.Name, state, strconv.Itoa(s.Restarts),
			Millis(s.Timings.Start), Millis(s.Timings.FirstX11), last,
		})
	}
	return rows
}

// Millis shows a duration in milliseconds, "-" for none.
func Millis(d api.Duration) string {
	if d <= 0 {
		return "-"
	}
	ms := float64(time.Duration(d).Microseconds()) / 1000
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
