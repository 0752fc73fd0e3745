package agent

import (
	"os"
	"slices"

	"github.com/perchdesk/perch/api"
)

// Status returns a copy of the whole state.
func (a *Agent) Status() api.Status {
	a.mu.Lock()
	st := api.Status{
		PID: os.Getpid(), Config: a.cfg.Path, Location: a.cfg.Location, Profile: a.profile, Since: a.since, LastError: a.lastErr,
		Mode: api.ModeManual, Screen: a.screen, Profiles: slices.Clone(a.cfg.Order),
		Sessions: []api.SessionStatus{}, Forwards: []api.ForwardStatus{},
		Disconnected: a.disconnected, LayoutKept: a.layoutKept,
	}
	if a.wantAuto && a.override == "" {
		st.Mode = api.ModeAuto
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
	sc := api.Screen{Width: v.Width, Height: v.Height, Outputs: []api.OutputView{}}
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
