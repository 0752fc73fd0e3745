package main

import (
	"context"
	"log/slog"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/ui"
)

// startAgent runs the agent in this process, assembled as `perch up` does
// (internal/app): the profile (or auto), the control socket, SIGHUP to
// reload; host keys and passphrases are asked in windows.
func startAgent(ctx context.Context, o options, log *slog.Logger, p *ui.Prompter) (*backend, error) {
	a, err := app.Assemble(app.Options{
		ConfigPath: o.config, Profile: o.profile, Display: o.display, Socket: o.socket, Log: log,
		Prompts: agent.Prompts{HostKey: p.HostKey, Passphrase: p.Passphrase},
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	ab := ui.NewAgentBackend(a.Agent)
	ran := make(chan error, 1)
	go func() {
		err := a.Run(ctx, ab.Run)
		if err != nil {
			// The tray stays up to show why.
			log.Error("the agent stopped", "err", err)
		}
		ran <- err
	}()
	return &backend{
		backend: ab,
		stop:    cancel,
		done:    a.Down(),
		wait: func() error {
			cancel()
			return <-ran
		},
	}, nil
}
