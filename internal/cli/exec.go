package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/cli/sshexec"
	"github.com/perchdesk/perch/internal/server"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

func newExecCmd(e *env) *cobra.Command {
	var lf logFlags
	var noX11 bool
	c := &cobra.Command{
		Use:   "exec SERVER -- COMMAND [ARG...]",
		Short: "run one command with X11 forwarding, as ssh -Y",
		Long: `exec runs COMMAND on the configured SERVER over perch's own SSH client,
with X11 forwarding to the local display (as ssh -Y) unless --no-x11. It
returns the remote command's exit status, or 255 when it could not run.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("exec needs SERVER -- COMMAND [ARG...]")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return e.exec(c.Context(), args[0], args[1:], lf, noX11)
		},
		ValidArgsFunction: e.completeServers,
	}
	lf.add(c)
	c.Flags().BoolVar(&noX11, "no-x11", false, "no X11 forwarding")
	return c
}

// exitStatus is a command's own exit status to pass through (perch exec).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (e *env) exec(ctx context.Context, server string, command []string, lf logFlags, noX11 bool) error {
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	_, t, dopts, err := serverTarget(cfg, server)
	if err != nil {
		return err
	}
	o := sshexec.Options{Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Log: log}
	if display := e.displayName(); !noX11 && display != "" {
		if o.X11, err = x11fwd.FindLocal(display); err != nil {
			return err
		}
	}
	// As ssh(1): the words of the command are joined with spaces.
	code, err := sshexec.Run(ctx, t, dopts, strings.Join(command, " "), o)
	if err != nil {
		fmt.Fprintf(e.stderr, "perch: exec on %s: %v\n", server, err)
		return exitStatus(code)
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// serverTarget resolves a configured server through ssh_config.
func serverTarget(cfg *config.Config, name string) (*config.Server, *sshconf.Target, sshdial.Options, error) {
	srv, ok := cfg.Servers[name]
	if !ok {
		return nil, nil, sshdial.Options{}, &config.Error{File: cfg.Path,
			Msg: fmt.Sprintf("no server %q (servers: %s)", name, orNone(serverNames(cfg)))}
	}
	t, dopts, err := server.Resolve(name, srv)
	return srv, t, dopts, err
}

// serverNames are the configuration's servers, sorted.
func serverNames(cfg *config.Config) []string {
	var names []string
	for n := range cfg.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
