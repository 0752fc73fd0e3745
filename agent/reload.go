package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// Reload re-reads the configuration from its file and applies the
// difference. A broken file is reported and the running profile stays.
func (a *Agent) Reload(ctx context.Context) error {
	return a.do(ctx, a.reload)
}

// logWarnings logs the configuration's warnings (a forward reachable from
// other machines).
func (a *Agent) logWarnings(cfg *config.Config) {
	for _, w := range cfg.Warnings {
		a.log.Warn("configuration: " + w)
	}
}

// reload re-reads the configuration and runs the profile (or, under auto,
// the winner) with it; a reload that cannot take effect leaves the
// running profile with the configuration it came from.
func (a *Agent) reload(ctx context.Context) error {
	a.mu.Lock()
	old, profile, auto, since := a.cfg, a.profile, a.wantAuto && a.override == "", a.since
	a.mu.Unlock()
	cfg, err := a.loadForReload(old.Path, profile, auto)
	if err != nil {
		a.log.Error("reload failed", "err", err)
		a.setErr(err)
		return err
	}
	a.mu.Lock()
	a.cfg = cfg
	a.mu.Unlock()
	a.logWarnings(cfg)
	if err := a.runReloaded(ctx, cfg, profile, auto); err != nil {
		return a.reloadFailed(old, profile, since, err)
	}
	a.log.Info("configuration reloaded", "path", old.Path)
	return nil
}

// loadForReload reads the configuration at path. Without auto, one that
// lacks the running profile is refused before it is taken: the profile
// and the configuration it came from both stay.
func (a *Agent) loadForReload(path, profile string, auto bool) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("reload: %w; still running profile %s", err, profile)
	}
	if !auto {
		if _, err := cfg.Profile(profile); err != nil {
			return nil, &api.UserError{Msg: fmt.Sprintf("reload: profile %s is no longer in %s; still running it with the previous configuration", profile, path)}
		}
	}
	return cfg, nil
}

// runReloaded runs the profile with the new configuration, or under auto
// the profile that now wins.
func (a *Agent) runReloaded(ctx context.Context, cfg *config.Config, profile string, auto bool) error {
	if !auto {
		return a.run(ctx, profile, false)
	}
	st, err := a.opts.Display.Probe()
	if err != nil {
		return fmt.Errorf("read the outputs: %w", err)
	}
	winner, err := Pick(cfg, st)
	if err != nil {
		return err
	}
	return a.run(ctx, winner, winner != profile)
}

// reloadFailed undoes the reload when nothing of the new configuration
// reached the screen (no profile matched, a hook or the layout was
// refused): the running profile goes on with the configuration it came
// from (old), as after a broken file. Once a layout was applied (the
// profile's since moved) the new configuration is the one in effect, and
// the error is the switch's own.
func (a *Agent) reloadFailed(old *config.Config, profile string, since time.Time, err error) error {
	// A layout change that failed half-way and could not be undone left
	// the screen partly in the new layout: that counts as applied.
	var se *xrandr.StepError
	partial := errors.As(err, &se) && !se.Restored
	a.mu.Lock()
	applied := !a.since.Equal(since) || partial
	if !applied {
		a.cfg = old
	}
	a.mu.Unlock()
	if applied {
		return err
	}
	err = fmt.Errorf("reload: %w; still running profile %s with the previous configuration", err, profile)
	a.log.Error("reload failed", "err", err)
	a.setErr(err)
	return err
}
