package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
)

// logFlags are the logging flags of the long-running commands.
type logFlags struct {
	format  string
	verbose bool
}

func (l *logFlags) add(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.BoolVar(&l.verbose, "v", false, "debug logging")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if l.verbose {
		opts.Level = slog.LevelDebug
	}
	switch l.format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", l.format)
}

// serverTarget resolves a configured server through ssh_config.
func serverTarget(cfg *config.Config, name string) (*config.Server, *sessions.Target, sessions.DialOptions, error) {
	srv, ok := cfg.Servers[name]
	if !ok {
		var names []string
		for n := range cfg.Servers {
			names = append(names, n)
		}
		return nil, nil, sessions.DialOptions{}, &config.Error{File: cfg.Path,
			Msg: fmt.Sprintf("no server %q (servers: %s)", name, orNone(sortStrings(names)))}
	}
	t, dopts, err := agent.ResolveServer(name, srv)
	return srv, t, dopts, err
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// exitStatus is a command's own exit status to pass through (perch exec).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (e *env) cmdExec(ctx context.Context, args []string) error {
	var g globals
	var lf logFlags
	var noX11 bool
	fs := newFlagSet("exec")
	g.add(fs)
	lf.add(fs)
	fs.BoolVar(&noX11, "no-x11", false, "no X11 forwarding")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("exec needs SERVER -- COMMAND [ARG...]")
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig(&g)
	if err != nil {
		return err
	}
	_, t, dopts, err := serverTarget(cfg, pos[0])
	if err != nil {
		return err
	}
	o := sessions.ExecOptions{Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Log: log}
	if !noX11 {
		display := g.display
		if display == "" {
			display = e.getenv("DISPLAY")
		}
		if display != "" {
			if o.X11, err = sessions.LocalX11(display); err != nil {
				return err
			}
		}
	}
	// As ssh(1): the words of the command are joined with spaces.
	code, err := sessions.Exec(ctx, t, dopts, strings.Join(pos[1:], " "), o)
	if err != nil {
		fmt.Fprintf(e.stderr, "perch: exec on %s: %v\n", pos[0], err)
		return exitStatus(code)
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}
