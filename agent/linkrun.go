package agent

import (
	"context"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/forward"
)

// Reconnect drops and re-establishes the link, or restarts one session.
func (a *Agent) Reconnect(ctx context.Context, session string) error {
	return a.do(ctx, func(ctx context.Context) error {
		a.mu.Lock()
		lr, disconnected, cfg, profile := a.link, a.disconnected, a.cfg, a.profile
		a.mu.Unlock()
		if lr == nil && disconnected {
			prof, err := cfg.Profile(profile)
			if err != nil {
				return err
			}
			a.mu.Lock()
			a.disconnected = false
			a.mu.Unlock()
			return a.setLink(cfg, prof, false) // a reconnect takes nothing back
		}
		if lr == nil {
			return &api.UserError{Msg: "the profile has no server: nothing to reconnect"}
		}
		if session == "" {
			lr.link.Reconnect()
			return nil
		}
		if err := lr.link.RestartSession(session); err != nil {
			return &api.UserError{Msg: err.Error()}
		}
		return nil
	})
}

// Disconnect drops the link of the running profile (its sessions stop);
// the layout stays. Reconnect, or a switch, connects again.
func (a *Agent) Disconnect(ctx context.Context) error {
	return a.do(ctx, func(ctx context.Context) error {
		a.mu.Lock()
		lr, already := a.link, a.disconnected
		if lr != nil {
			a.disconnected = true
		}
		a.mu.Unlock()
		if lr == nil && already {
			return &api.UserError{Msg: "not connected: already disconnected (perch reconnect connects again)"}
		}
		if lr == nil {
			return &api.UserError{Msg: "not connected: the profile has no server"}
		}
		a.stopLink()
		a.log.Info("disconnected on request")
		a.notify()
		return nil
	})
}

// networkChanged passes a network change to the running link.
func (a *Agent) networkChanged() {
	a.mu.Lock()
	lr := a.link
	a.mu.Unlock()
	if lr != nil {
		lr.link.NetworkChanged()
	}
}

// Specs lists a profile's sessions: its displays, then its commands.
// location is this thin client's name: local xpra clients carry it as
// their identity, so that xpra tells apart the clients of one user at
// two locations.
func Specs(p *config.Profile, location string) []sessions.Spec {
	var specs []sessions.Spec
	for _, d := range p.Displays {
		if p.Client == config.ClientLocal {
			specs = append(specs, sessions.LocalDisplaySpec(d, p.XpraArgs, location))
			continue
		}
		specs = append(specs, sessions.DisplaySpec(d, p.XpraArgs...))
	}
	for _, s := range p.Sessions {
		specs = append(specs, sessions.Spec{Name: s.Name, Command: s.Command})
	}
	return specs
}

// Forwards lists a profile's forwards.
func Forwards(p *config.Profile) []forward.Spec {
	var fw []forward.Spec
	for _, f := range p.Forwards {
		fw = append(fw, forward.Spec{Listen: f.Listen, To: f.To})
	}
	return fw
}

// setLink keeps the link when the server is the same (changing only its
// sessions and forwards), else replaces it. take: display sessions that
// start take their displays as the profile's take key says (a start or a
// switch); otherwise only displays no live location holds (a reconnect).
func (a *Agent) setLink(cfg *config.Config, prof *config.Profile, take bool) error {
	a.mu.Lock()
	lr := a.link
	a.mu.Unlock()
	if prof.Server == "" {
		a.stopLink()
		return nil
	}
	srv := cfg.Servers[prof.Server]
	cl := claims.Config{Location: cfg.Location, AgentID: a.id, TakeAlways: take && prof.Take != config.TakeIfFree}
	if lr != nil && lr.server == prof.Server && lr.srv == *srv {
		lr.link.SetClaims(cl)
		lr.link.SetSessions(Specs(prof, cfg.Location))
		lr.link.SetForwards(Forwards(prof))
		return nil
	}
	a.stopLink()
	l, err := a.opts.NewLink(prof.Server, srv)
	if err != nil {
		return err
	}
	l.SetClaims(cl)
	l.SetSessions(Specs(prof, cfg.Location))
	l.SetForwards(Forwards(prof))
	ctx, cancel := context.WithCancel(a.runCtx)
	lr = &linkRun{server: prof.Server, srv: *srv, link: l, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(lr.done)
		l.Run(ctx)
	}()
	go func() {
		for {
			select {
			case <-lr.done:
				a.notify()
				return
			case <-l.Changes():
				a.notify()
			}
		}
	}()
	// Once it started, its status is there to show (a forward that
	// cannot listen says so in it).
	<-l.Started()
	a.mu.Lock()
	a.link = lr
	a.mu.Unlock()
	a.notify()
	return nil
}

// stopLink stops the running link, if any, and waits for it.
func (a *Agent) stopLink() {
	a.mu.Lock()
	lr := a.link
	a.link = nil
	a.mu.Unlock()
	if lr != nil {
		lr.cancel()
		<-lr.done
	}
}
