package agent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// Switch runs profile name, or "auto" to pick by the connected monitors. A
// manual switch overrides auto until the set of connected outputs changes.
func (a *Agent) Switch(ctx context.Context, name string) error {
	return a.do(ctx, func(ctx context.Context) error { return a.switchRequest(ctx, name) })
}

// connectedKey is the set of connected outputs (names and fingerprints).
func connectedKey(st *xrandr.State) string {
	ids := st.Connected()
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func (a *Agent) switchRequest(ctx context.Context, name string) error {
	a.mu.Lock()
	cfg := a.cfg
	a.mu.Unlock()
	if name == "" {
		name = cfg.Default
	}
	if name == "" {
		return &api.UserError{Msg: fmt.Sprintf("no profile given and no default = \"NAME\" in %s", cfg.Path)}
	}
	st, err := a.opts.Display.Probe()
	if err != nil {
		return fmt.Errorf("read the outputs: %w", err)
	}
	set := connectedKey(st)
	// A switch that fails leaves the choice of profile (auto or manual)
	// as it was, as it leaves the profile.
	a.mu.Lock()
	wantAuto, override, lastSet := a.wantAuto, a.override, a.lastSet
	a.mu.Unlock()
	restore := func() {
		a.mu.Lock()
		a.wantAuto, a.override, a.lastSet = wantAuto, override, lastSet
		a.mu.Unlock()
	}
	if name == config.Auto {
		winner, err := Pick(cfg, st)
		if err != nil {
			a.setErr(err)
			return err
		}
		a.mu.Lock()
		a.wantAuto, a.override, a.lastSet = true, "", set
		a.mu.Unlock()
		if err := a.run(ctx, winner, true); err != nil {
			restore()
			return err
		}
		return nil
	}
	if _, err := cfg.Profile(name); err != nil {
		return err
	}
	a.mu.Lock()
	if a.wantAuto {
		a.override = set
	}
	a.lastSet = set
	a.mu.Unlock()
	if err := a.run(ctx, name, true); err != nil {
		restore()
		return err
	}
	return nil
}

// outputsChanged re-evaluates auto after the outputs settled. Events from
// perch's own apply do not change the set of connected outputs, so they
// cause nothing.
func (a *Agent) outputsChanged(ctx context.Context) {
	st, err := a.opts.Display.Probe()
	if err != nil {
		a.log.Warn("read the outputs", "err", err)
		return
	}
	a.updateScreen()
	set := connectedKey(st)
	a.mu.Lock()
	if set == a.lastSet {
		a.mu.Unlock()
		return
	}
	a.log.Info("connected outputs changed", "outputs", set)
	a.lastSet = set
	if a.override != "" && a.override != set {
		a.log.Info("the manual profile choice ends: the monitors changed")
		a.override = ""
	}
	auto := a.wantAuto && a.override == ""
	cfg, current := a.cfg, a.profile
	a.mu.Unlock()
	a.notify()
	if !auto {
		return
	}
	winner, err := Pick(cfg, st)
	if err != nil {
		a.log.Warn("auto: keeping the current profile", "profile", current, "err", err)
		a.setErr(err)
		return
	}
	if winner == current {
		a.log.Info("auto: keeping the current profile, still the best match", "profile", current)
		return
	}
	a.log.Info("auto: switching", "from", current, "to", winner)
	if err := a.run(ctx, winner, true); err != nil {
		a.log.Error("auto switch failed", "profile", winner, "err", err)
	}
}

// run makes profile name the running one: before hooks, layout, link,
// after hooks. A failure before the layout changed leaves everything as it
// was.
func (a *Agent) run(ctx context.Context, name string, hooks bool) error {
	a.mu.Lock()
	cfg := a.cfg
	a.mu.Unlock()
	prof, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	log := a.log.With("profile", name)
	if hooks {
		for _, h := range prof.Before {
			if err := a.hook(ctx, "before", h); err != nil {
				err = fmt.Errorf("profile %s: the switch stopped: %w", name, err)
				a.setErr(err)
				return err
			}
		}
	}
	if err := a.applyLayout(cfg, prof, log); err != nil {
		return err
	}
	a.mu.Lock()
	a.profile, a.since, a.disconnected, a.layoutKept = name, time.Now(), false, prof.KeepsLayout()
	a.mu.Unlock()
	if prof.KeepsLayout() {
		a.notify()
	} else {
		a.updateScreen()
	}
	if err := a.setLink(cfg, prof, true); err != nil {
		err = fmt.Errorf("profile %s: %w", name, err)
		a.setErr(err)
		return err
	}
	a.setErr(nil)
	a.setFollow(prof)
	if hooks {
		for _, h := range prof.After {
			if err := a.hook(ctx, "after", h); err != nil {
				log.Warn("after hook failed", "err", err)
				a.setErr(fmt.Errorf("profile %s: %w", name, err))
			}
		}
	}
	return nil
}

// applyLayout applies the profile's layout; a profile without outputs
// leaves it as it is, without a RandR request.
func (a *Agent) applyLayout(cfg *config.Config, prof *config.Profile, log *slog.Logger) error {
	if prof.KeepsLayout() {
		log.Info("layout left as it is: the profile lists no outputs")
		return nil
	}
	plan, err := a.opts.Display.Apply(prof.Layout())
	if err != nil {
		err = fmt.Errorf("profile %s (%s:%d): %w", prof.Name, cfg.Path, prof.Line, err)
		a.setErr(err)
		return err
	}
	log.Info("layout applied", "changed", !plan.Unchanged(), "screen", fmt.Sprintf("%dx%d", plan.Width, plan.Height))
	return nil
}
