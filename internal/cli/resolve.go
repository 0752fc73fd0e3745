package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/server"
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
)

func newResolveCmd(e *env) *cobra.Command {
	var asJSON bool
	var sshConfig string
	c := &cobra.Command{
		Use:   "resolve [--json] [--ssh-config FILE] TARGET",
		Short: "show what perch will do to connect to a server (its ssh -G)",
		Long: `resolve is perch's ssh -G: TARGET is a server of the configuration or
[user@]host[:port]. It prints the host name, port, user, identity files,
known_hosts files, the host-key policy, the jump chain (each hop resolved)
or proxy command, keepalive and connect timeout, as ssh_config and perch's
configuration decide them. A refusal exits 2 naming the file and line.`,
		Args: oneArg("resolve needs one TARGET: a server name, or a host as ssh takes it"),
		RunE: func(_ *cobra.Command, args []string) error {
			return e.resolve(args[0], sshConfig, asJSON)
		},
		ValidArgsFunction: e.completeServers,
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&sshConfig, "ssh-config", "", "read this ssh_config file instead of the defaults")
	return c
}

// resolve is perch resolve. The logic and its rendering live in
// sessions/sshconf.
func (e *env) resolve(target, sshConfig string, asJSON bool) error {
	perchPolicy := ""
	var files []string
	cfg, err := e.loadConfig()
	switch {
	case err == nil && cfg.Servers[target] != nil:
		srv := *cfg.Servers[target]
		if sshConfig != "" {
			srv.SSHConfig = sshConfig
		}
		t, dopts, err := server.Resolve(target, &srv)
		if err != nil {
			return err
		}
		return e.printResolved(t, dopts.Policy, asJSON)
	case err != nil && !errors.Is(err, config.ErrNoFile):
		return err
	}
	if sshConfig != "" {
		files = []string{sshConfig}
	}
	t, err := sshconf.Resolve(target, files)
	if err != nil {
		return fmt.Errorf("%w: %w", err, config.ErrInvalid)
	}
	return e.printResolved(t, perchPolicy, asJSON)
}

func (e *env) printResolved(t *sshconf.Target, perchPolicy string, asJSON bool) error {
	r, err := sshconf.NewReport(t, hostkey.Policy(perchPolicy, t))
	if err != nil {
		return fmt.Errorf("%w: %w", err, config.ErrInvalid)
	}
	if !asJSON {
		_, err = fmt.Fprint(e.stdout, r.Text())
		return err
	}
	b, err := r.JSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}
