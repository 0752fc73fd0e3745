package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/sessions"
)

// logLinesShown is how many recent log lines the status window shows.
const logLinesShown = 40

// statusWindow shows the whole status: the profile, a drawing of the
// layout, the link, the sessions and the recent log lines.
type statusWindow struct {
	win      fyne.Window
	summary  *widget.Label
	screen   *screenView
	link     *widget.Label
	sessions *fyne.Container // a grid: a header row, then a row per session
	log      *widget.Label
	logBox   *container.Scroll
	// take brings a session here (the "Bring here" of an elsewhere
	// session's row); nil: no button.
	take func(session string)
}

func newStatusWindow(app fyne.App) *statusWindow {
	w := &statusWindow{
		win:      app.NewWindow("perch status"),
		summary:  widget.NewLabel(""),
		screen:   newScreenView(),
		link:     widget.NewLabel(""),
		sessions: container.NewGridWithColumns(len(sessionHeader)),
		log:      widget.NewLabel(""),
	}
	w.summary.Wrapping = fyne.TextWrapWord
	w.link.Wrapping = fyne.TextWrapWord
	w.log.TextStyle.Monospace = true
	w.logBox = container.NewScroll(w.log)
	w.logBox.SetMinSize(fyne.NewSize(0, 120))
	top := container.NewVBox(
		w.summary,
		w.screen,
		widget.NewSeparator(),
		w.link,
		w.sessions,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Recent log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
	)
	w.win.SetContent(container.NewBorder(top, nil, nil, nil, w.logBox))
	w.win.SetIcon(AppIcon())
	w.win.Resize(fyne.NewSize(760, 640))
	return w
}

// update shows st (or the error reading it). UI goroutine only.
func (w *statusWindow) update(st agent.Status, err error, lines []string) {
	w.summary.SetText(SummaryText(st, err))
	w.screen.SetScreen(st.Screen)
	w.link.SetText(LinkText(st))
	rows := SessionRows(st)
	objs := make([]fyne.CanvasObject, 0, len(sessionHeader)*(len(rows)+1))
	for _, h := range sessionHeader {
		objs = append(objs, widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for i, row := range rows {
		for j, c := range row {
			l := widget.NewLabel(c)
			l.Truncation = fyne.TextTruncateEllipsis
			s := st.Sessions[i]
			if j == len(row)-1 && s.State == sessions.StateElsewhere && w.take != nil {
				name := s.Name
				objs = append(objs, container.NewBorder(nil, nil, nil, widget.NewButton("Bring here", func() { w.take(name) }), l))
				continue
			}
			objs = append(objs, l)
		}
	}
	w.sessions.Objects = objs
	w.sessions.Hidden = len(rows) == 0
	w.sessions.Refresh()
	if n := len(lines) - logLinesShown; n > 0 {
		lines = lines[n:]
	}
	w.log.SetText(strings.Join(lines, "\n"))
	w.logBox.ScrollToBottom()
}

// SummaryText is the status window's first paragraph: the profile, its
// mode and age, the agent, and its last error.
func SummaryText(st agent.Status, err error) string {
	var b strings.Builder
	if st.Profile != "" {
		fmt.Fprintf(&b, "Profile %s (%s)", st.Profile, st.Mode)
		if !st.Since.IsZero() {
			fmt.Fprintf(&b, " since %s", st.Since.Format("15:04:05"))
		}
		if st.Screen.Width > 0 {
			fmt.Fprintf(&b, ", screen %dx%d", st.Screen.Width, st.Screen.Height)
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
func LinkText(st agent.Status) string {
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
	if l.LastError != "" {
		s += "\nLast error: " + l.LastError
	}
	return s
}

var sessionHeader = []string{"Session", "State", "Restarts", "Start", "First X11", "Last error"}

// SessionRows are the sessions table's rows, one per session, in the
// columns of sessionHeader.
func SessionRows(st agent.Status) [][]string {
	rows := make([][]string, 0, len(st.Sessions))
	for _, s := range st.Sessions {
		state, last := s.State, firstLine(s.LastError)
		if s.State == sessions.StateElsewhere {
			state = "elsewhere: at " + s.HeldBy
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
func Millis(d sessions.Duration) string {
	if d <= 0 {
		return "-"
	}
	ms := float64(time.Duration(d).Microseconds()) / 1000
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
