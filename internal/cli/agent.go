package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/sessions"
)

func (e *env) socketPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return control.DefaultPath(e.getenv)
}

// cmdUp is the headless agent: it runs a profile (or auto), serves the
// control socket, reloads on SIGHUP, and stops cleanly on SIGINT/SIGTERM
// or `perch down`.
func (e *env) cmdUp(ctx context.Context, args []string) error {
	var g globals
	var lf logFlags
	var sock string
	fs := newFlagSet("up")
	g.add(fs)
	lf.add(fs)
	fs.StringVar(&sock, "socket", "", "control socket")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("up takes at most one PROFILE (or auto)")
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig(&g)
	if err != nil {
		return err
	}
	initial := cfg.Default
	if len(pos) == 1 {
		initial = pos[0]
	}
	if initial == "" {
		return usagef("up needs a PROFILE or auto (or default = \"NAME\" in %s)", cfg.Path)
	}
	if initial != config.Auto {
		if _, err := cfg.Profile(initial); err != nil {
			return err
		}
	}
	display := g.display
	if display == "" {
		display = e.getenv("DISPLAY")
	}
	if display == "" {
		return fmt.Errorf("no X display: set DISPLAY or pass --display")
	}
	xd, err := agent.NewXDisplay(display)
	if err != nil {
		return err
	}
	defer xd.Close()

	path := e.socketPath(sock)
	ln, err := control.Listen(path, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := agent.New(agent.Options{Config: cfg, Display: xd, NewLink: agent.SSHLinks(display, log, agent.Prompts{}), Log: log, WatchNetwork: agent.WatchNetwork})

	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := control.Serve(ctx, ln, a, cancel); err != nil {
			log.Error("control socket", "err", err)
		}
	}()
	reloads := a.ReloadOnHangup(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		logChanges(ctx, a, log)
	}()
	log.Info("perch agent", "profile", initial, "socket", path, "pid", os.Getpid())
	err = a.Run(ctx, initial)
	cancel()
	<-served
	<-watched
	<-reloads
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
		if last["profile"] != st.Profile+"/"+st.Mode {
			last["profile"] = st.Profile + "/" + st.Mode
			log.Info("profile", "name", st.Profile, "mode", st.Mode)
		}
		if st.Link != nil && last["link"] != st.Link.State {
			last["link"] = st.Link.State
			log.Info("link", "server", st.Link.Server, "state", st.Link.State, "err", st.Link.LastError)
		}
		for _, s := range st.Sessions {
			if last[s.Name] != s.State {
				last[s.Name] = s.State
				log.Info("session", "name", s.Name, "state", s.State, "restarts", s.Restarts, "err", s.LastError)
			}
		}
	}
}

func (e *env) client(args []string, name string, maxArgs int, extra func(fs interface {
	BoolVar(*bool, string, bool, string)
})) (*control.Client, []string, error) {
	var sock string
	fs := newFlagSet(name)
	var g globals
	g.add(fs)
	fs.StringVar(&sock, "socket", "", "control socket")
	if extra != nil {
		extra(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) > maxArgs {
		return nil, nil, usagef("%s takes at most %d argument(s)", name, maxArgs)
	}
	return &control.Client{Path: e.socketPath(sock)}, pos, nil
}

// clientErr maps an agent's answer to exit codes: bad input is 2.
func clientErr(err error) error {
	var re *control.RequestError
	if errors.As(err, &re) && re.Invalid {
		return &usageError{re.Msg}
	}
	return err
}

func (e *env) cmdStatus(ctx context.Context, args []string) error {
	var asJSON, follow bool
	c, _, err := e.client(args, "status", 0, func(fs interface {
		BoolVar(*bool, string, bool, string)
	}) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&follow, "follow", false, "print the status again at every change, until interrupted")
	})
	if err != nil {
		return err
	}
	if follow {
		enc := json.NewEncoder(e.stdout)
		err := c.Watch(ctx, func(st agent.Status) {
			if asJSON {
				_ = enc.Encode(st) // one object per line
				return
			}
			fmt.Fprintf(e.stdout, "--- %s\n", time.Now().Format(time.TimeOnly))
			printStatus(e.stdout, st)
		})
		switch {
		case ctx.Err() != nil: // interrupted: the normal end
			return nil
		case errors.Is(err, control.ErrStreamEnded):
			fmt.Fprintln(e.stderr, "perch: the agent stopped")
			return nil
		}
		return clientErr(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return clientErr(err)
	}
	if asJSON {
		return writeJSON(e.stdout, st)
	}
	printStatus(e.stdout, st)
	return nil
}

func (e *env) cmdSwitch(ctx context.Context, args []string) error {
	c, pos, err := e.client(args, "switch", 1, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("switch needs a PROFILE or auto")
	}
	st, err := c.Switch(ctx, pos[0])
	if err != nil {
		return clientErr(err)
	}
	fmt.Fprintf(e.stdout, "profile %s (%s)\n", st.Profile, st.Mode)
	return nil
}

func (e *env) cmdReconnect(ctx context.Context, args []string) error {
	c, pos, err := e.client(args, "reconnect", 1, nil)
	if err != nil {
		return err
	}
	session := ""
	if len(pos) == 1 {
		session = pos[0]
	}
	if _, err := c.Reconnect(ctx, session); err != nil {
		return clientErr(err)
	}
	if session == "" {
		fmt.Fprintln(e.stdout, "reconnecting")
	} else {
		fmt.Fprintf(e.stdout, "restarting session %s\n", session)
	}
	return nil
}

func (e *env) cmdReload(ctx context.Context, args []string) error {
	c, _, err := e.client(args, "reload", 0, nil)
	if err != nil {
		return err
	}
	st, err := c.Reload(ctx)
	if err != nil {
		return clientErr(err)
	}
	fmt.Fprintf(e.stdout, "reloaded %s; profile %s\n", st.Config, st.Profile)
	return nil
}

func (e *env) cmdDown(ctx context.Context, args []string) error {
	c, _, err := e.client(args, "down", 0, nil)
	if err != nil {
		return err
	}
	st, err := c.Down(ctx)
	if err != nil {
		return clientErr(err)
	}
	// Wait for the socket to go: the agent has then stopped everything.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(c.Path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stdout, "perch agent (pid %d) stopped\n", st.PID)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the agent (pid %d) did not stop within 30s", st.PID)
}

func ms(d sessions.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", float64(time.Duration(d).Microseconds())/1000)
}

// printStatus is the status for people.
func printStatus(w io.Writer, st agent.Status) {
	fmt.Fprintf(w, "profile   %s (%s), since %s; agent pid %d, config %s\n", st.Profile, st.Mode, st.Since.Format("15:04:05"), st.PID, st.Config)
	fmt.Fprintf(w, "location  %s\n", st.Location)
	if st.LastError != "" {
		fmt.Fprintf(w, "error     %s\n", st.LastError)
	}
	var outs []string
	for _, o := range st.Screen.Outputs {
		s := fmt.Sprintf("%s %s+%d+%d %s", o.Name, o.Mode, o.X, o.Y, o.Rotation)
		if o.Primary {
			s += " primary"
		}
		outs = append(outs, s)
	}
	fmt.Fprintf(w, "layout    %dx%d: %s\n", st.Screen.Width, st.Screen.Height, strings.Join(outs, "; "))
	if st.Link == nil {
		fmt.Fprintln(w, "link      none (the profile has no server)")
		return
	}
	l := st.Link
	fmt.Fprintf(w, "link      %s (%s): %s since %s, rtt %s, reconnects %d, connect %s\n",
		l.Server, l.Address, l.State, l.Since.Format("15:04:05"), ms(l.RTT), l.Reconnects, ms(l.Timings.Total))
	if l.LastError != "" {
		fmt.Fprintf(w, "          last error: %s\n", l.LastError)
	}
	fmt.Fprintf(w, "%-10s %-9s %-8s %-10s %s\n", "SESSION", "STATE", "RESTARTS", "FIRST-X11", "LAST ERROR")
	for _, s := range st.Sessions {
		last := s.LastError
		if s.State == sessions.StateElsewhere {
			last = fmt.Sprintf("at %s since %s (perch take brings it here)", s.HeldBy, s.Since.Format("15:04:05"))
		}
		fmt.Fprintf(w, "%-10s %-9s %-8d %-10s %s\n", s.Name, s.State, s.Restarts, ms(s.Timings.FirstX11), last)
	}
	for _, f := range st.Forwards {
		fmt.Fprintf(w, "forward   %s → %s: %d open, %d in all %s\n", f.Listen, f.To, f.Active, f.Total, f.LastError)
	}
}

func (e *env) cmdDisconnect(ctx context.Context, args []string) error {
	c, _, err := e.client(args, "disconnect", 0, nil)
	if err != nil {
		return err
	}
	st, err := c.Disconnect(ctx)
	if err != nil {
		return clientErr(err)
	}
	fmt.Fprintf(e.stdout, "disconnected; profile %s stays (perch reconnect connects again)\n", st.Profile)
	return nil
}
