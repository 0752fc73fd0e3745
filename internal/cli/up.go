package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/internal/app"
)

func newUpCmd(e *env) *cobra.Command {
	var lf logFlags
	var sock string
	c := &cobra.Command{
		Use:   "up [PROFILE|auto]",
		Short: "the agent: apply the layout, connect, supervise the sessions",
		Long: `up runs the agent: it applies PROFILE's layout (or, with auto, the profile
whose match list fits the connected outputs, again at every change),
connects to the profile's server and keeps its sessions attached. It serves
the control socket the other commands use. SIGHUP reloads the
configuration; SIGINT, SIGTERM or ` + "`perch down`" + ` stop it.
Without PROFILE it runs the configuration's default.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("up takes at most one PROFILE (or auto)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			profile := ""
			if len(args) == 1 {
				profile = args[0]
			}
			return e.up(c.Context(), profile, sock, lf)
		},
		ValidArgsFunction: e.completeProfiles(true),
	}
	lf.add(c)
	addSocketFlag(c, &sock)
	return c
}

// up is the headless agent: it runs a profile (or auto), serves the
// control socket, reloads on SIGHUP, and stops cleanly on SIGINT/SIGTERM
// or `perch down`.
func (e *env) up(ctx context.Context, profile, sock string, lf logFlags) error {
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	a, err := app.Assemble(app.Options{
		ConfigPath: e.configPath(), Profile: profile, Display: e.displayName(),
		Socket: e.socketPath(sock), Log: log, Getenv: e.getenv,
		NoProfileMsg: "up needs a PROFILE or auto (or default = \"NAME\" in %s)",
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		logChanges(ctx, a.Agent, log)
	}()
	err = a.Run(ctx, nil)
	cancel()
	<-watched
	if err != nil {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// logChanges logs each change of link or session state until ctx ends.
func logChanges(ctx context.Context, a *agent.Agent, log *slog.Logger) {
	last := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.Changes():
		}
		st := a.Status()
		if p := st.Profile + "/" + string(st.Mode); last["profile"] != p {
			last["profile"] = p
			log.Info("profile", "name", st.Profile, "mode", st.Mode)
		}
		if st.Link != nil && last["link"] != string(st.Link.State) {
			last["link"] = string(st.Link.State)
			log.Info("link", "server", st.Link.Server, "state", st.Link.State, "err", st.Link.LastError)
		}
		for _, s := range st.Sessions {
			if last[s.Name] != string(s.State) {
				last[s.Name] = string(s.State)
				log.Info("session", "name", s.Name, "state", s.State, "restarts", s.Restarts, "err", s.LastError)
			}
		}
	}
}
