package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/ui"
)

// startAgent runs the agent in this process, as `perch up` does: the
// profile (or auto), the control socket, SIGHUP to reload.
func startAgent(ctx context.Context, o options, log *slog.Logger, p *ui.Prompter) (*backend, error) {
	cfg, err := config.Load(o.config)
	if err != nil {
		return nil, err
	}
	initial := o.profile
	if initial == "" {
		initial = cfg.Default
	}
	if initial == "" {
		return nil, usageError{fmt.Errorf("no PROFILE given (or auto) and no default = \"NAME\" in %s", cfg.Path)}
	}
	if initial != config.Auto {
		if _, err := cfg.Profile(initial); err != nil {
			return nil, err
		}
	}
	if o.display == "" {
		return nil, errors.New("no X display: set DISPLAY or pass --display")
	}
	xd, err := agent.NewXDisplay(o.display)
	if err != nil {
		return nil, fmt.Errorf("display %s: %w", o.display, err)
	}
	ln, err := control.Listen(o.socket, log)
	if err != nil {
		xd.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	a := agent.New(agent.Options{Config: cfg, Display: xd, NewLink: agent.SSHLinks(o.display, log, agent.Prompts{HostKey: p.HostKey, Passphrase: p.Passphrase}), Log: log, WatchNetwork: agent.WatchNetwork})
	ab := ui.NewAgentBackend(a)
	down := make(chan struct{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		err := control.Serve(ctx, ln, a, func() {
			log.Info("perch down: stopping")
			close(down)
			cancel()
		})
		if err != nil {
			log.Error("control socket", "err", err)
		}
	}()
	reloads := a.ReloadOnHangup(ctx)
	ran := make(chan error, 1)
	go func() {
		err := ab.Run(ctx, initial)
		if err != nil {
			// The tray stays up to show why.
			log.Error("the agent stopped", "err", err)
		}
		ran <- err
	}()
	log.Info("perch agent", "profile", initial, "socket", o.socket, "pid", os.Getpid())
	return &backend{
		backend: ab,
		stop:    cancel,
		done:    down,
		wait: func() error {
			cancel()
			err := <-ran
			<-served
			<-reloads
			xd.Close()
			return err
		},
	}, nil
}
