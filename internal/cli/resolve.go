package cli

import (
	"errors"
	"fmt"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
)

// cmdResolve is `perch resolve [--json] [--ssh-config FILE] TARGET`,
// perch's `ssh -G`: TARGET is a server of the configuration or
// [user@]host[:port]. The logic and its rendering live in sessions/sshconf.
func (e *env) cmdResolve(args []string) error {
	var g globals
	var asJSON bool
	var sshConfig string
	fs := newFlagSet("resolve")
	g.add(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&sshConfig, "ssh-config", "", "read this ssh_config file instead of the defaults")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("resolve needs one TARGET: a server name or [user@]host[:port]")
	}
	target, perchPolicy := pos[0], ""
	var files []string
	cfg, err := e.loadConfig(&g)
	switch {
	case err == nil && cfg.Servers[target] != nil:
		srv := *cfg.Servers[target]
		if sshConfig != "" {
			srv.SSHConfig = sshConfig
		}
		t, dopts, err := agent.ResolveServer(target, &srv)
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
