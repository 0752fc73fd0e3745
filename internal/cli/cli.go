// Package cli is perch's command line: it parses arguments, runs one
// command and maps every error to an exit code in one place (0 done, 1
// failed at run time, 2 bad usage, configuration or layout).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitInvalid = 2
)

// usageError is bad usage of the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// env is what a command runs with; tests replace its parts.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// Main runs perch with the arguments after the program name and returns
// the exit code.
func Main(args []string) int {
	// First: a SIGHUP while the agent starts must not end it.
	agent.CatchHangups()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return e.run(ctx, args)
}

const usageText = `perch puts a remote desktop back together on a thin client.

Usage:
  perch outputs [--json]                         list outputs, modes and EDID fingerprints
  perch layout apply [--dry-run] [--json] PROFILE  arrange the outputs as a profile says
  perch layout save [--force] NAME               save the current layout as a profile
  perch check                                    validate the configuration
  perch up [PROFILE|auto] [--socket PATH]        the agent: apply the layout, connect, supervise the
                                                 sessions; SIGHUP reloads; SIGINT/SIGTERM stop it
  perch status [--json] [--follow]               the running agent: profile, link, layout, sessions
  perch switch PROFILE|auto                      switch the running agent's profile
  perch reconnect [SESSION]                      reconnect the link, or restart one session
  perch disconnect                               drop the link (the layout stays)
  perch reload                                   re-read the configuration (as SIGHUP)
  perch down                                     stop the running agent
  perch exec SERVER -- COMMAND [ARG...]          run one command with X11 forwarding, as ssh -Y
  perch demo [--for DURATION]                    run perch in a self-contained sandbox
  perch version

Global flags (before or after the command):
  --config FILE   configuration file (default $PERCH_CONFIG, else
                  $XDG_CONFIG_HOME/perch/config.toml)
  --display DPY   X display (default $DISPLAY)

Exit codes: 0 done, 1 failed at run time, 2 bad usage, configuration or layout
(nothing was applied). perch exec returns the remote command's status, or 255
when it could not run (as ssh does).
`

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

func (e *env) run(ctx context.Context, args []string) int {
	err := e.dispatch(ctx, args)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var es exitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	fmt.Fprintln(e.stderr, "perch: "+err.Error())
	return exitCode(err)
}

func exitCode(err error) int {
	var ue *usageError
	var aue *agent.UserError
	switch {
	case errors.As(err, &ue), errors.As(err, &aue), errors.Is(err, config.ErrInvalid), errors.Is(err, xrandr.ErrLayout):
		return ExitInvalid
	}
	return ExitFailed
}

// globals are the flags every command takes.
type globals struct {
	config  string
	display string
}

func (g *globals) add(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", "", "configuration file")
	fs.StringVar(&g.display, "display", "", "X display")
}

func (e *env) configPath(g *globals) string {
	if g.config != "" {
		return g.config
	}
	if p := e.getenv("PERCH_CONFIG"); p != "" {
		return p
	}
	return config.DefaultPath()
}

func (e *env) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usageText)
		return usagef("no command given")
	}
	// Global flags may also stand before the command: move them after it.
	var lead []string
	for len(args) > 1 && (args[0] == "--config" || args[0] == "--display" || args[0] == "-config" || args[0] == "-display") {
		lead = append(lead, args[0], args[1])
		args = args[2:]
	}
	for len(args) > 0 && (strings.HasPrefix(args[0], "--config=") || strings.HasPrefix(args[0], "--display=")) {
		lead = append(lead, args[0])
		args = args[1:]
	}
	if len(args) == 0 {
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	if len(lead) > 0 {
		if cmd == "layout" && len(rest) > 0 {
			rest = append(append([]string{rest[0]}, lead...), rest[1:]...)
		} else {
			rest = append(lead, rest...)
		}
	}
	if cmd != "up" {
		var cancel context.CancelFunc
		ctx, cancel = agent.StopOnHangup(ctx)
		defer cancel()
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usageText)
		return nil
	case "version", "--version":
		fmt.Fprintln(e.stdout, "perch "+Version)
		return nil
	case "outputs":
		return e.cmdOutputs(rest)
	case "layout":
		if len(rest) == 0 {
			return usagef("layout needs a subcommand: apply or save")
		}
		switch rest[0] {
		case "apply":
			return e.cmdLayoutApply(rest[1:])
		case "save":
			return e.cmdLayoutSave(rest[1:])
		}
		return usagef("unknown layout subcommand %q (want apply or save)", rest[0])
	case "check":
		return e.cmdCheck(rest)
	case "demo":
		return e.cmdDemo(ctx, rest)
	case "exec":
		return e.cmdExec(ctx, rest)
	case "up":
		return e.cmdUp(ctx, rest)
	case "status":
		return e.cmdStatus(ctx, rest)
	case "switch":
		return e.cmdSwitch(ctx, rest)
	case "reconnect":
		return e.cmdReconnect(ctx, rest)
	case "reload":
		return e.cmdReload(ctx, rest)
	case "disconnect":
		return e.cmdDisconnect(ctx, rest)
	case "down":
		return e.cmdDown(ctx, rest)
	}
	return usagef("unknown command %q; run `perch help`", cmd)
}

func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet(name, flag.ContinueOnError)
}

// parse parses flags that may stand before or after the positional
// arguments; "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, usagef("unknown flag %s", a)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		// "--" ends the flags: it is never a value (--display -- xterm
		// forgot the display).
		if i+1 >= len(args) || args[i+1] == "--" {
			return nil, usagef("flag %s needs a value", a)
		}
		i++
		flags = append(flags, args[i])
	}
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	return pos, nil
}

func (e *env) loadConfig(g *globals) (*config.Config, error) {
	return config.Load(e.configPath(g))
}

func (e *env) dial(g *globals) (*xrandr.Conn, error) {
	d := g.display
	if d == "" {
		d = e.getenv("DISPLAY")
	}
	if d == "" {
		return nil, fmt.Errorf("no X display: set DISPLAY or pass --display")
	}
	return xrandr.Dial(d)
}

func (e *env) cmdCheck(args []string) error {
	var g globals
	fs := newFlagSet("check")
	g.add(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("check takes no arguments")
	}
	c, err := e.loadConfig(&g)
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(e.stderr, "perch: warning: "+w)
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d profiles: %s; %d servers)\n", c.Path, len(c.Order), strings.Join(c.Order, ", "), len(c.Servers))
	return nil
}
