// Package cli is perch's command line, one file per command on
// spf13/cobra: it parses arguments, runs one command and maps its error to
// an exit code through app.ExitCode (0 done, 1 failed at run time, 2 bad
// usage, configuration or layout).
//
// A new command is one file with a constructor func(*env) *cobra.Command,
// listed once in commands below.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/xrandr"
)

// Exit codes (app's, named here for the tests).
const (
	ExitOK      = app.ExitOK
	ExitFailed  = app.ExitFailed
	ExitInvalid = app.ExitInvalid
)

// commands are perch's commands, in the order `perch help` lists them.
var commands = []func(*env) *cobra.Command{
	newOutputsCmd,
	newLayoutCmd,
	newCheckCmd,
	newUpCmd,
	newStatusCmd,
	newSwitchCmd,
	newReconnectCmd,
	newTakeCmd,
	newDisconnectCmd,
	newReloadCmd,
	newDownCmd,
	newExecCmd,
	newResolveCmd,
	newDoctorCmd,
	newInitCmd,
	newDemoCmd,
	newVersionCmd,
}

func usagef(format string, args ...any) error {
	return &app.UsageError{Msg: fmt.Sprintf(format, args...)}
}

// env is what a command runs with; tests replace its parts. config and
// display are the global flags.
type env struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	config  string
	display string
	// terminal reports whether stdin is a person at a terminal (prompts
	// are allowed); nil: never.
	terminal func() bool
}

// Main runs perch with the arguments after the program name and returns
// the exit code.
func Main(args []string) int {
	// First: a SIGHUP while the agent starts must not end it.
	agent.CatchHangups()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, terminal: stdinIsTerminal}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return e.run(ctx, args)
}

const rootLong = `perch puts a remote desktop back together on a thin client: it arranges
the monitors (RandR) as a profile says and attaches the remote sessions
(xpra over one SSH link with X11 forwarding).

Exit codes: 0 done, 1 failed at run time, 2 bad usage, configuration or
layout (nothing was applied). perch exec returns the remote command's
status, or 255 when it could not run (as ssh does).`

// newRoot is the whole command tree, bound to e.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "perch",
		Short: "arrange a thin client's monitors and attach the remote desktop's sessions",
		Long:  rootLong,
		Args:  cobra.ArbitraryArgs,
		// perch alone, or an unknown command.
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(e.stderr, c.UsageString())
				return usagef("no command given")
			}
			if s := c.SuggestionsFor(args[0]); len(args[0]) > 1 && len(s) > 0 {
				return usagef("unknown command %q (did you mean %q?); run `perch help`", args[0], s[0])
			}
			return usagef("unknown command %q; run `perch help`", args[0])
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Version:           version(),
		// Misspellings within two edits are suggested.
		SuggestionsMinimumDistance: 2,
	}
	root.SetVersionTemplate("perch {{.Version}}\n")
	// --version without cobra's -v shorthand: -v is up's, exec's and demo's --verbose.
	root.Flags().Bool("version", false, "print perch's version and VCS revision")
	pf := root.PersistentFlags()
	pf.StringVar(&e.config, "config", "", "configuration file (default $PERCH_CONFIG, else $XDG_CONFIG_HOME/perch/config.toml)")
	pf.StringVar(&e.display, "display", "", "X display (default $DISPLAY)")
	_ = root.RegisterFlagCompletionFunc("config", completeConfigFile)
	_ = root.RegisterFlagCompletionFunc("display", completeDisplays)
	root.SetFlagErrorFunc(flagError)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	for _, nc := range commands {
		root.AddCommand(nc(e))
	}
	return root
}

func (e *env) run(ctx context.Context, args []string) int {
	root := newRoot(e)
	args, err := normalize(root, args)
	if err == nil {
		root.SetArgs(args)
		// SIGHUP ends every command as its default action would, except
		// the agent, which reloads on it.
		hctx, cancel := ctx, context.CancelFunc(func() {})
		if c, _, ferr := root.Find(args); ferr == nil && c.Name() != "up" {
			hctx, cancel = agent.StopOnHangup(ctx)
		}
		err = root.ExecuteContext(hctx)
		cancel()
	}
	if err == nil {
		return ExitOK
	}
	var es exitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	fmt.Fprintln(e.stderr, "perch: "+err.Error())
	return app.ExitCode(err)
}

func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (e *env) configPath() string {
	if e.config != "" {
		return e.config
	}
	if p := e.getenv("PERCH_CONFIG"); p != "" {
		return p
	}
	return config.DefaultPath()
}

func (e *env) loadConfig() (*config.Config, error) {
	return config.Load(e.configPath())
}

// displayName is the X display to use: --display, else $DISPLAY.
func (e *env) displayName() string {
	if e.display != "" {
		return e.display
	}
	return e.getenv("DISPLAY")
}

func (e *env) dial() (*xrandr.Conn, error) {
	d := e.displayName()
	if d == "" {
		return nil, app.ErrNoDisplay
	}
	return xrandr.Dial(d)
}

// Command is perch's whole command tree, with cobra's help and completion
// commands, for generating documentation (make man).
func Command() *cobra.Command {
	root := newRoot(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	return root
}
