package agent

import (
	"os"
	"slices"
	"time"

	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/xrandr"
)

// Status is the whole agent as the front ends show it. It is a value:
// copied out, never shared.
type Status struct {
	PID       int                      `json:"pid"`
	Config    string                   `json:"config"`
	Location  string                   `json:"location"`
	Profile   string                   `json:"profile"`
	Mode      string                   `json:"mode"`
	Since     time.Time                `json:"since"`
	LastError string                   `json:"last_error,omitempty"`
	Link      *sessions.LinkStatus     `json:"link"`
	Sessions  []sessions.SessionStatus `json:"sessions"`
	Forwards  []sessions.ForwardStatus `json:"forwards"`
	Screen    Screen                   `json:"screen"`
	Profiles  []string                 `json:"profiles"`
	// Disconnected is true when the user dropped the link (Disconnect);
	// Reconnect or a switch connects again.
	Disconnected bool `json:"disconnected,omitempty"`
	// LayoutKept: the profile lists no outputs, so the layout was left as
	// it is (Screen is what was on screen before, if known).
	LayoutKept bool `json:"layout_kept,omitempty"`
	// ConfigFiles are the configuration files read, system files first;
	// ProfileFile and ServerFile the ones the profile and its server
	// came from.
	ConfigFiles []string `json:"config_files,omitempty"`
	ProfileFile string   `json:"profile_file,omitempty"`
	ServerFile  string   `json:"server_file,omitempty"`
}

// Screen is the local layout: the screen size and the outputs that are on.
type Screen struct {
	Width   int                 `json:"width"`
	Height  int                 `json:"height"`
	Outputs []xrandr.OutputView `json:"outputs"`
}

// Status returns a copy of the whole state.
func (a *Agent) Status() Status {
	a.mu.Lock()
	st := Status{
		PID: os.Getpid(), Config: a.cfg.Path, Location: a.cfg.Location, Profile: a.profile, Since: a.since, LastError: a.lastErr,
		Mode: ModeManual, Screen: a.screen, Profiles: slices.Clone(a.cfg.Order),
		Sessions: []sessions.SessionStatus{}, Forwards: []sessions.ForwardStatus{},
		Disconnected: a.disconnected, LayoutKept: a.layoutKept,
	}
	if a.wantAuto && a.override == "" {
		st.Mode = ModeAuto
	}
	st.ConfigFiles = slices.Clone(a.cfg.Files)
	if p := a.cfg.Profiles[a.profile]; p != nil {
		st.ProfileFile = p.File
		if s := a.cfg.Servers[p.Server]; s != nil {
			st.ServerFile = s.File
		}
	}
	lr := a.link
	a.mu.Unlock()
	if lr != nil {
		ls := lr.link.Status()
		st.Link = &ls.Link
		st.Sessions = ls.Sessions
		st.Forwards = ls.Forwards
	}
	return st
}

func (a *Agent) updateScreen() {
	st, err := a.opts.Display.Current()
	if err != nil {
		a.log.Warn("read the layout", "err", err)
		return
	}
	v := st.View()
	sc := Screen{Width: v.Width, Height: v.Height, Outputs: []xrandr.OutputView{}}
	for _, o := range v.Outputs {
		if o.On {
			o.Modes = nil
			sc.Outputs = append(sc.Outputs, o)
		}
	}
	a.mu.Lock()
	a.screen = sc
	a.mu.Unlock()
	a.notify()
}
