// Command perch-tray is perch's desktop front end: a tray icon and menu, a
// status window and notifications (package ui). When a `perch up` already
// holds the control socket it becomes that agent's front end; otherwise it
// runs the agent itself and serves the socket, as `perch up` does.
//
//	perch-tray [--config FILE] [--socket PATH] [--display DPY] [-v] [PROFILE|auto]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/internal/app"
	"github.com/perchdesk/perch/ui"
)

// appID is perch-tray's Fyne application ID (as in FyneApp.toml).
const appID = "io.github.perchdesk.perch"

func main() {
	// First: a SIGHUP while the agent starts must not end it.
	agent.CatchHangups()
	os.Exit(run(os.Args[1:]))
}

// options are the command line.
type options struct {
	config, socket, display string
	verbose                 bool
	profile                 string
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("perch-tray", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.config, "config", "", "configuration file (default $PERCH_CONFIG, else ~/.config/perch/config.toml)")
	fs.StringVar(&o.socket, "socket", "", "control socket (default $XDG_RUNTIME_DIR/perch/control.sock)")
	fs.StringVar(&o.display, "display", "", "X display (default $DISPLAY)")
	fs.BoolVar(&o.verbose, "v", false, "debug logging")
	// Flags may also follow the profile.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return o, app.Usagef("%v\nusage: perch-tray [--config FILE] [--socket PATH] [--display DPY] [-v] [PROFILE|auto]", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 1 {
		return o, app.Usagef("perch-tray takes at most one PROFILE (or auto)")
	}
	if len(pos) == 1 {
		o.profile = pos[0]
	}
	if o.config == "" {
		o.config = config.DefaultPath()
	}
	if o.socket == "" {
		o.socket = control.DefaultPath(os.Getenv)
	}
	if o.display == "" {
		o.display = os.Getenv("DISPLAY")
	}
	return o, nil
}

// logger logs to stderr and, compactly, to ring for the status window.
func logger(ring *ui.LogRing, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	compact := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05"))
		}
		return a
	}}
	return slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}),
		slog.NewTextHandler(ring, compact),
	))
}

func run(args []string) int {
	o, err := parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "perch-tray:", err)
		return app.ExitCode(err)
	}
	ring := ui.NewLogRing(200)
	log := logger(ring, o.verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fa := fyneapp.NewWithID(appID)
	fa.SetIcon(ui.AppIcon())

	be, err := attachOrStart(ctx, o, log, ui.NewPrompter(fa))
	if err != nil {
		fmt.Fprintln(os.Stderr, "perch-tray:", err)
		if code := app.ExitCode(err); code == app.ExitInvalid {
			return ui.CannotStart(ctx, fa, o.display, o.config, err) // a window too: stderr goes unread from a menu
		} else {
			return code
		}
	}
	// The tray icon and menu without Fyne's hidden window: perch-tray makes
	// no OpenGL context until it shows a window (RSS 102 → 32 MiB with the
	// agent and 4 sessions; see ui.NewStatusNotifier).
	systemTray := ui.NewStatusNotifier(fa)
	tray := ui.New(ui.Options{
		App: fa, Backend: be.backend, Log: log, Ring: ring, OnQuit: be.stop,
		SystemTray: systemTray,
	})
	tray.Start(ctx)

	// The app quits when ctx ends (a signal, or `perch down` on the
	// in-process agent's socket).
	appDone := make(chan struct{})
	quitter := make(chan struct{})
	go func() {
		defer close(quitter)
		select {
		case <-ctx.Done():
			fyne.Do(fa.Quit)
		case <-be.done:
			fyne.Do(fa.Quit)
		case <-appDone:
		}
	}()
	fa.Run()
	// The menu goes before the agent stops (which may take seconds): a
	// click now would reach an app that no longer runs.
	if c, ok := systemTray.(io.Closer); ok {
		_ = c.Close()
	}
	close(appDone)
	<-quitter
	be.stop()
	tray.Wait()
	if err := be.wait(); err != nil {
		log.Error("perch agent", "err", err)
		return app.ExitCode(err)
	}
	return app.ExitOK
}

// backend is the agent the tray shows, with what ends it.
type backend struct {
	backend ui.Backend
	// stop ends an in-process agent (nothing for an attached one).
	stop func()
	// done is closed when the agent asked the front end to quit (`perch
	// down`); nil when it never does.
	done <-chan struct{}
	// wait waits for what attachOrStart started and returns the agent's
	// error.
	wait func() error
}

// attachOrStart attaches to the agent holding the socket, else starts one
// in this process.
func attachOrStart(ctx context.Context, o options, log *slog.Logger, p *ui.Prompter) (*backend, error) {
	client := &control.Client{Path: o.socket}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	st, err := client.Status(sctx)
	cancel()
	if err == nil {
		log.Info("attached to the running perch agent", "pid", st.PID, "socket", o.socket)
		return attach(ctx, client), nil
	}
	if !errors.Is(err, control.ErrNoAgent) {
		log.Info("no agent answers on the socket: starting one", "socket", o.socket, "err", err)
	}
	b, err := startAgent(ctx, o, log, p)
	var held *control.HeldError
	if errors.As(err, &held) { // another agent started meanwhile
		log.Info("attached to the running perch agent", "pid", held.PID, "socket", o.socket)
		return attach(ctx, client), nil
	}
	return b, err
}

// attach follows an agent through its socket.
func attach(ctx context.Context, client *control.Client) *backend {
	cb := ui.NewClientBackend(client, time.Second)
	ctx, cancel := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		cb.Run(ctx)
	}()
	return &backend{
		backend: cb,
		stop:    cancel,
		wait:    func() error { cancel(); <-followed; return nil },
	}
}
