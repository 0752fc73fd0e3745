package agent

import (
	"context"
	"errors"
	"fmt"

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

func (a *Agent) reload(ctx context.Context) error {
	a.mu.Lock()
	old, profile, auto, since := a.cfg, a.profile, a.wantAuto && a.override == "", a.since
	a.mu.Unlock()
	path := old.Path
	cfg, err := config.Load(path)
	if err != nil {
		err = fmt.Errorf("reload: %w; still running profile %s", err, profile)
		a.log.Error("reload failed", "err", err)
		a.setErr(err)
		return err
	}
	if !auto {
		// Refused before the new configuration is taken: the running
		// profile and the configuration it came from both stay.
		if _, err := cfg.Profile(profile); err != nil {
			err = &api.UserError{Msg: fmt.Sprintf("reload: profile %s is no longer in %s; still running it with the previous configuration", profile, path)}
			a.log.Error("reload failed", "err", err)
			a.setErr(err)
			return err
		}
	}
	a.mu.Lock()
	a.cfg = cfg
	a.mu.Unlock()
	a.logWarnings(cfg)
	// fail undoes the reload when nothing of the new configuration reached
	// the screen (no profile matched, a hook or the layout was refused):
	// the running profile goes on with the configuration it came from, as
	// after a broken file. Once a layout was applied the new configuration
	// is the one in effect, and the error is the switch's own.
	fail := func(err error) error {
		// A layout change that failed half-way and could not be undone
		// left the screen partly in the new layout: that counts as applied.
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
	if auto {
		st, err := a.opts.Display.Probe()
		if err != nil {
			return fail(fmt.Errorf("read the outputs: %w", err))
		}
		winner, err := Pick(cfg, st)
		if err != nil {
			return fail(err)
		}
		if err := a.run(ctx, winner, winner != profile); err != nil {
			return fail(err)
		}
	} else if err := a.run(ctx, profile, false); err != nil {
		return fail(err)
	}
	a.log.Info("configuration reloaded", "path", path)
	return nil
}
