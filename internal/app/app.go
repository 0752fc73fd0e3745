// Package app assembles perch's running agent once, for every front end
// (`perch up`, perch-tray, `perch demo`): the configuration, the X
// display, the SSH links, the agent and its control socket, in that order.
// It also holds the one mapping of errors to exit codes both binaries use.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/desktop"
)

// Options say what to assemble.
type Options struct {
	// Config is the loaded configuration; when nil, ConfigPath is loaded.
	Config     *config.Config
	ConfigPath string
	// Profile is the profile to run, or "auto"; "" is the file's default.
	Profile string
	// Display is the X display (already defaulted from $DISPLAY).
	Display string
	// Socket is the control socket's path.
	Socket string
	Log    *slog.Logger
	// Prompts ask the user about host keys and passphrases (a front end
	// with windows); zero: never ask.
	Prompts agent.Prompts
	// Getenv reads the environment (WAYLAND_DISPLAY); nil: os.Getenv.
	Getenv func(string) string
	// NoProfileMsg is the usage message when no profile is given and the
	// file has no default; %s is the file's path.
	NoProfileMsg string
}

// Agent is an assembled agent, not yet running.
type Agent struct {
	*agent.Agent
	// Profile is the profile Run starts with (or "auto").
	Profile string
	Config  *config.Config
	Socket  string

	log  *slog.Logger
	xd   *agent.XDisplay
	wl   *desktop.Wayland // nil unless a compositor arranges the monitors
	ln   net.Listener
	down chan struct{}
	once sync.Once
}

// Assemble checks the configuration and the profile, connects to the
// display and takes the control socket. Every error here is one the user
// can act on, and nothing has been changed on screen yet.
func Assemble(o Options) (*Agent, error) {
	cfg := o.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(o.ConfigPath); err != nil {
			return nil, err
		}
	}
	initial := o.Profile
	if initial == "" {
		initial = cfg.Default
	}
	if initial == "" {
		msg := o.NoProfileMsg
		if msg == "" {
			msg = "no PROFILE given (or auto) and no default = \"NAME\" in %s"
		}
		return nil, Usagef(msg, cfg.Path)
	}
	if initial != config.Auto {
		if _, err := cfg.Profile(initial); err != nil {
			return nil, err
		}
	}
	if o.Display == "" {
		return nil, ErrNoDisplay
	}
	xd, err := agent.NewXDisplay(o.Display)
	if err != nil {
		return nil, err
	}
	ln, err := control.Listen(o.Socket, o.Log)
	if err != nil {
		xd.Close()
		return nil, err
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var display agent.Display = waylandGuard{XDisplay: xd, getenv: getenv}
	st, err := xd.Current()
	if err != nil {
		xd.Close()
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	wl, err := OpenWayland(ctx, getenv, st, log)
	cancel()
	if wl != nil {
		log.Info("layouts through the Wayland compositor", "backend", wl.Backend())
		display = waylandDisplay{Wayland: wl, x: xd}
	} else if err != nil {
		log.Info("layouts are refused here", "why", err)
	}
	a := agent.New(agent.Options{Config: cfg, Display: display, NewLink: agent.SSHLinks(o.Display, o.Log, o.Prompts), Log: o.Log, WatchNetwork: agent.WatchNetwork})
	return &Agent{Agent: a, Profile: initial, Config: cfg, Socket: o.Socket, log: o.Log, xd: xd, wl: wl, ln: ln, down: make(chan struct{})}, nil
}

// Down is closed when a client asked the agent to stop (`perch down`).
func (a *Agent) Down() <-chan struct{} { return a.down }

// Run serves the control socket, reloads on SIGHUP and runs the agent
// with run (nil: the agent's own Run) until ctx ends, `perch down` or run
// returns. It closes the socket and the display before it returns run's
// error.
func (a *Agent) Run(ctx context.Context, run func(ctx context.Context, profile string) error) error {
	defer a.xd.Close()
	if a.wl != nil {
		defer a.wl.Close()
	}
	if run == nil {
		run = a.Agent.Run
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		err := control.Serve(ctx, a.ln, a.Agent, func() {
			a.once.Do(func() {
				a.log.Info("perch down: stopping")
				close(a.down)
			})
			cancel()
		})
		if err != nil {
			a.log.Error("control socket", "err", err)
		}
	}()
	reloads := a.ReloadOnHangup(ctx)
	a.log.Info("perch agent", "profile", a.Profile, "socket", a.Socket, "pid", os.Getpid())
	err := run(ctx, a.Profile)
	cancel()
	<-served
	<-reloads
	return err
}

// Close gives back what Assemble took, for an agent that never ran.
func (a *Agent) Close() {
	_ = a.ln.Close()
	a.xd.Close()
}

// ErrNoDisplay: neither --display nor $DISPLAY names an X display.
var ErrNoDisplay = fmt.Errorf("no X display: set DISPLAY or pass --display")
