// Package agent ties layout and sessions together into what a user runs
// every day: it runs a profile (before hooks, layout, server link,
// sessions, forwards, after hooks), switches between profiles changing only
// what differs, picks the profile by the connected monitors under "auto",
// and reloads its configuration.
//
// One goroutine, Run, owns the agent's state; the other methods queue their
// work to it and wait. The display and the links are reached through the
// small Display and Link interfaces, so that the policy is table-tested
// with fakes and the real thing is tested end to end.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/xrandr"
)

// Display is the local screen as the agent uses it.
type Display interface {
	// Probe re-reads the outputs, asking the server to look for monitors.
	Probe() (*xrandr.State, error)
	// Current reads the configuration without probing.
	Current() (*xrandr.State, error)
	// Apply plans and applies a layout; a refusal wraps xrandr.ErrLayout.
	Apply(l xrandr.Layout) (*xrandr.Plan, error)
	// Watch delivers RandR notifications until ctx ends.
	Watch(ctx context.Context) (<-chan xrandr.Event, error)
}

// Link is a supervised connection to one server (sessions.Link).
type Link interface {
	Run(ctx context.Context) error
	// Started is closed once Run has started; a Run that cannot start
	// returns its error without closing it.
	Started() <-chan struct{}
	SetSessions([]sessions.Spec)
	SetForwards([]sessions.ForwardSpec) error
	Status() sessions.Status
	Changes() <-chan struct{}
	Reconnect()
	RestartSession(name string) error
	// NetworkChanged: the machine's network changed; a link waiting to
	// retry tries now.
	NetworkChanged()
	// SetClaims sets this location's name and how display sessions take
	// their displays from other locations (sessions.Claims).
	SetClaims(sessions.Claims)
	// Take brings the named display sessions (all when none) here and
	// returns those it asked; minAge > 0 leaves a display another location
	// took less than minAge ago where it is.
	Take(names []string, minAge time.Duration) []string
}

// LinkFactory makes the link to a configured server.
type LinkFactory func(name string, srv *config.Server) (Link, error)

// Options configure an Agent.
type Options struct {
	Config   *config.Config
	Display  Display
	NewLink  LinkFactory
	Log      *slog.Logger
	Debounce time.Duration // output changes settle this long before auto acts; default 1 s
	// HookTimeout bounds each before/after command; default 30 s.
	HookTimeout time.Duration
	// WatchNetwork, when set, runs for as long as the agent does and calls
	// changed when the machine's network changed (netwatch.Watch), so that
	// a link waiting out its backoff connects as soon as the network is
	// back. An error from it is logged: links then wait out their backoff.
	WatchNetwork func(ctx context.Context, changed func()) error
}

// Modes of profile choice.
const (
	ModeAuto   = "auto"
	ModeManual = "manual"
)

// Status is the whole agent as the front ends show it. It is a value:
// copied out, never shared.
type Status struct {
	PID       int                      `json:"pid"`
	Config    string                   `json:"config"`
	Location  string                   `json:"location"`
	Profile   string                   `json:"profile"`
	Mode      string                   `json:"mode"`
	Since     time.Time                `json:"since"`
	LastError string                   `json:"last_error,omitempty"`
	Link      *sessions.LinkStatus     `json:"link"`
	Sessions  []sessions.SessionStatus `json:"sessions"`
	Forwards  []sessions.ForwardStatus `json:"forwards"`
	Screen    Screen                   `json:"screen"`
	Profiles  []string                 `json:"profiles"`
	// Disconnected is true when the user dropped the link (Disconnect);
	// Reconnect or a switch connects again.
	Disconnected bool `json:"disconnected,omitempty"`
	// LayoutKept: the profile lists no outputs, so the layout was left as
	// it is (Screen is what was on screen before, if known).
	LayoutKept bool `json:"layout_kept,omitempty"`
}

// Screen is the local layout: the screen size and the outputs that are on.
type Screen struct {
	Width   int                 `json:"width"`
	Height  int                 `json:"height"`
	Outputs []xrandr.OutputView `json:"outputs"`
}

// ErrStopped is returned by requests made after the agent stopped.
var ErrStopped = errors.New("the agent has stopped")

// Agent runs profiles. Make one with New, then call Run.
type Agent struct {
	opts Options
	log  *slog.Logger
	reqs chan request
	id   string // this agent's id in the claims on the server

	mu       sync.Mutex // guards the fields below, read by Status
	cfg      *config.Config
	profile  string
	since    time.Time
	wantAuto bool   // the user asked for auto
	override string // connected set when a manual switch overrode auto; "" when none
	lastSet  string // connected set last evaluated
	screen   Screen
	lastErr  string
	link     *linkRun
	// disconnected: the user dropped the link of the running profile.
	disconnected bool
	follow       *followRun // the activity watch of follow = "activity"
	layoutKept   bool       // the running profile lists no outputs

	runCtx  context.Context
	changes chan struct{}
	stopped chan struct{}

	watchMu sync.Mutex
	updated chan struct{} // closed by the next change; nil until asked for
}

type request struct {
	fn   func(ctx context.Context) error
	done chan error
}

type linkRun struct {
	server string
	srv    config.Server
	link   Link
	cancel context.CancelFunc
	done   chan struct{}
}

// New makes an agent.
func New(o Options) *Agent {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Debounce == 0 {
		o.Debounce = time.Second
	}
	if o.HookTimeout == 0 {
		o.HookTimeout = 30 * time.Second
	}
	return &Agent{
		opts: o, log: o.Log, cfg: o.Config, id: sessions.NewAgentID(),
		reqs:    make(chan request),
		changes: make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
}

// Changes signals (coalesced) every change of Status.
func (a *Agent) Changes() <-chan struct{} { return a.changes }

// Updated returns a channel that is closed at the next change of Status
// (or when the agent stops). Unlike Changes it has any number of readers:
// each watcher asks again after every change.
func (a *Agent) Updated() <-chan struct{} {
	a.watchMu.Lock()
	defer a.watchMu.Unlock()
	if a.updated == nil {
		a.updated = make(chan struct{})
	}
	return a.updated
}

func (a *Agent) notify() {
	select {
	case a.changes <- struct{}{}:
	default:
	}
	a.watchMu.Lock()
	if a.updated != nil {
		close(a.updated)
		a.updated = nil
	}
	a.watchMu.Unlock()
}

// Status returns a copy of the whole state.
func (a *Agent) Status() Status {
	a.mu.Lock()
	st := Status{
		PID: os.Getpid(), Config: a.cfg.Path, Location: a.cfg.Location, Profile: a.profile, Since: a.since, LastError: a.lastErr,
		Mode: ModeManual, Screen: a.screen, Profiles: slices.Clone(a.cfg.Order),
		Sessions: []sessions.SessionStatus{}, Forwards: []sessions.ForwardStatus{},
		Disconnected: a.disconnected, LayoutKept: a.layoutKept,
	}
	if a.wantAuto && a.override == "" {
		st.Mode = ModeAuto
	}
	lr := a.link
	a.mu.Unlock()
	if lr != nil {
		ls := lr.link.Status()
		st.Link = &ls.Link
		st.Sessions = ls.Sessions
		st.Forwards = ls.Forwards
	}
	return st
}

// do runs fn on the owner goroutine and waits for it.
func (a *Agent) do(ctx context.Context, fn func(ctx context.Context) error) error {
	r := request{fn: fn, done: make(chan error, 1)}
	select {
	case a.reqs <- r:
	case <-a.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-a.stopped:
		return ErrStopped
	}
}

// Switch runs profile name, or "auto" to pick by the connected monitors. A
// manual switch overrides auto until the set of connected outputs changes.
func (a *Agent) Switch(ctx context.Context, name string) error {
	return a.do(ctx, func(ctx context.Context) error { return a.switchRequest(ctx, name) })
}

// Reconnect drops and re-establishes the link, or restarts one session.
func (a *Agent) Reconnect(ctx context.Context, session string) error {
	return a.do(ctx, func(ctx context.Context) error {
		a.mu.Lock()
		lr, disconnected, cfg, profile := a.link, a.disconnected, a.cfg, a.profile
		a.mu.Unlock()
		if lr == nil && disconnected {
			prof, err := cfg.Profile(profile)
			if err != nil {
				return err
			}
			a.mu.Lock()
			a.disconnected = false
			a.mu.Unlock()
			return a.setLink(cfg, prof, false) // a reconnect takes nothing back
		}
		if lr == nil {
			return &UserError{"the profile has no server: nothing to reconnect"}
		}
		if session == "" {
			lr.link.Reconnect()
			return nil
		}
		if err := lr.link.RestartSession(session); err != nil {
			return &UserError{err.Error()}
		}
		return nil
	})
}

// Disconnect drops the link of the running profile (its sessions stop);
// the layout stays. Reconnect, or a switch, connects again.
func (a *Agent) Disconnect(ctx context.Context) error {
	return a.do(ctx, func(ctx context.Context) error {
		a.mu.Lock()
		lr, already := a.link, a.disconnected
		if lr != nil {
			a.disconnected = true
		}
		a.mu.Unlock()
		if lr == nil && already {
			return &UserError{"not connected: already disconnected (perch reconnect connects again)"}
		}
		if lr == nil {
			return &UserError{"not connected: the profile has no server"}
		}
		a.stopLink()
		a.log.Info("disconnected on request")
		a.notify()
		return nil
	})
}

// Reload re-reads the configuration from its file and applies the
// difference. A broken file is reported and the running profile stays.
func (a *Agent) Reload(ctx context.Context) error {
	return a.do(ctx, a.reload)
}

// UserError is a request the user must change (unknown profile, session):
// the control socket answers it as bad input.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Run applies the initial profile ("auto" to pick one) and runs until ctx
// ends, then stops the link and its sessions and returns. An error in the
// initial profile is returned at once, with nothing left running.
func (a *Agent) Run(ctx context.Context, initial string) error {
	defer a.notify()
	defer close(a.stopped)
	a.runCtx = ctx
	a.logWarnings(a.cfg)
	events, err := a.opts.Display.Watch(ctx)
	if err != nil {
		a.log.Warn("no RandR events: monitors coming and going will not be noticed", "err", err)
	}
	if err := a.switchRequest(ctx, initial); err != nil {
		a.stopLink()
		return err
	}
	if a.opts.WatchNetwork != nil {
		wctx, cancel := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			if err := a.opts.WatchNetwork(wctx, a.networkChanged); err != nil && wctx.Err() == nil {
				a.log.Warn("network changes will not be noticed: links retry on their own schedule", "err", err)
			}
		}()
		defer func() { cancel(); <-watched }()
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			a.stopFollow()
			a.stopLink()
			a.notify()
			return nil
		case r := <-a.reqs:
			r.done <- r.fn(ctx)
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			debounce.Reset(a.opts.Debounce)
		case <-debounce.C:
			a.outputsChanged(ctx)
		}
	}
}

// logWarnings logs the configuration's warnings (a forward reachable from
// other machines).
func (a *Agent) logWarnings(cfg *config.Config) {
	for _, w := range cfg.Warnings {
		a.log.Warn("configuration: " + w)
	}
}

// networkChanged passes a network change to the running link.
func (a *Agent) networkChanged() {
	a.mu.Lock()
	lr := a.link
	a.mu.Unlock()
	if lr != nil {
		lr.link.NetworkChanged()
	}
}

// connectedKey is the set of connected outputs (names and fingerprints).
func connectedKey(st *xrandr.State) string {
	ids := st.Connected()
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func (a *Agent) setErr(err error) {
	a.mu.Lock()
	if err == nil {
		a.lastErr = ""
	} else {
		a.lastErr = err.Error()
	}
	a.mu.Unlock()
	a.notify()
}

func (a *Agent) switchRequest(ctx context.Context, name string) error {
	a.mu.Lock()
	cfg := a.cfg
	a.mu.Unlock()
	if name == "" {
		name = cfg.Default
	}
	if name == "" {
		return &UserError{fmt.Sprintf("no profile given and no default = \"NAME\" in %s", cfg.Path)}
	}
	st, err := a.opts.Display.Probe()
	if err != nil {
		return fmt.Errorf("read the outputs: %w", err)
	}
	set := connectedKey(st)
	// A switch that fails leaves the choice of profile (auto or manual)
	// as it was, as it leaves the profile.
	a.mu.Lock()
	wantAuto, override, lastSet := a.wantAuto, a.override, a.lastSet
	a.mu.Unlock()
	restore := func() {
		a.mu.Lock()
		a.wantAuto, a.override, a.lastSet = wantAuto, override, lastSet
		a.mu.Unlock()
	}
	if name == config.Auto {
		winner, err := Pick(cfg, st)
		if err != nil {
			a.setErr(err)
			return err
		}
		a.mu.Lock()
		a.wantAuto, a.override, a.lastSet = true, "", set
		a.mu.Unlock()
		if err := a.run(ctx, winner, true); err != nil {
			restore()
			return err
		}
		return nil
	}
	if _, err := cfg.Profile(name); err != nil {
		return err
	}
	a.mu.Lock()
	if a.wantAuto {
		a.override = set
	}
	a.lastSet = set
	a.mu.Unlock()
	if err := a.run(ctx, name, true); err != nil {
		restore()
		return err
	}
	return nil
}

// outputsChanged re-evaluates auto after the outputs settled. Events from
// perch's own apply do not change the set of connected outputs, so they
// cause nothing.
func (a *Agent) outputsChanged(ctx context.Context) {
	st, err := a.opts.Display.Probe()
	if err != nil {
		a.log.Warn("read the outputs", "err", err)
		return
	}
	a.updateScreen()
	set := connectedKey(st)
	a.mu.Lock()
	if set == a.lastSet {
		a.mu.Unlock()
		return
	}
	a.log.Info("connected outputs changed", "outputs", set)
	a.lastSet = set
	if a.override != "" && a.override != set {
		a.log.Info("the manual profile choice ends: the monitors changed")
		a.override = ""
	}
	auto := a.wantAuto && a.override == ""
	cfg, current := a.cfg, a.profile
	a.mu.Unlock()
	a.notify()
	if !auto {
		return
	}
	winner, err := Pick(cfg, st)
	if err != nil {
		a.log.Warn("auto: keeping the current profile", "profile", current, "err", err)
		a.setErr(err)
		return
	}
	if winner == current {
		a.log.Info("auto: keeping the current profile, still the best match", "profile", current)
		return
	}
	a.log.Info("auto: switching", "from", current, "to", winner)
	if err := a.run(ctx, winner, true); err != nil {
		a.log.Error("auto switch failed", "profile", winner, "err", err)
	}
}

// run makes profile name the running one: before hooks, layout, link,
// after hooks. A failure before the layout changed leaves everything as it
// was.
func (a *Agent) run(ctx context.Context, name string, hooks bool) error {
	a.mu.Lock()
	cfg := a.cfg
	a.mu.Unlock()
	prof, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	log := a.log.With("profile", name)
	if hooks {
		for _, h := range prof.Before {
			if err := a.hook(ctx, "before", h); err != nil {
				err = fmt.Errorf("profile %s: the switch stopped: %w", name, err)
				a.setErr(err)
				return err
			}
		}
	}
	if err := a.applyLayout(cfg, prof, log); err != nil {
		return err
	}
	a.mu.Lock()
	a.profile, a.since, a.disconnected, a.layoutKept = name, time.Now(), false, prof.KeepsLayout()
	a.mu.Unlock()
	if prof.KeepsLayout() {
		a.notify()
	} else {
		a.updateScreen()
	}
	if err := a.setLink(cfg, prof, true); err != nil {
		err = fmt.Errorf("profile %s: %w", name, err)
		a.setErr(err)
		return err
	}
	a.setErr(nil)
	a.setFollow(prof)
	if hooks {
		for _, h := range prof.After {
			if err := a.hook(ctx, "after", h); err != nil {
				log.Warn("after hook failed", "err", err)
				a.setErr(fmt.Errorf("profile %s: %w", name, err))
			}
		}
	}
	return nil
}

// applyLayout applies the profile's layout; a profile without outputs
// leaves it as it is, without a RandR request.
func (a *Agent) applyLayout(cfg *config.Config, prof *config.Profile, log *slog.Logger) error {
	if prof.KeepsLayout() {
		log.Info("layout left as it is: the profile lists no outputs")
		return nil
	}
	plan, err := a.opts.Display.Apply(prof.Layout())
	if err != nil {
		err = fmt.Errorf("profile %s (%s:%d): %w", prof.Name, cfg.Path, prof.Line, err)
		a.setErr(err)
		return err
	}
	log.Info("layout applied", "changed", !plan.Unchanged(), "screen", fmt.Sprintf("%dx%d", plan.Width, plan.Height))
	return nil
}

func (a *Agent) updateScreen() {
	st, err := a.opts.Display.Current()
	if err != nil {
		a.log.Warn("read the layout", "err", err)
		return
	}
	v := st.View()
	sc := Screen{Width: v.Width, Height: v.Height, Outputs: []xrandr.OutputView{}}
	for _, o := range v.Outputs {
		if o.On {
			o.Modes = nil
			sc.Outputs = append(sc.Outputs, o)
		}
	}
	a.mu.Lock()
	a.screen = sc
	a.mu.Unlock()
	a.notify()
}

// Specs lists a profile's sessions: its displays, then its commands.
// location is this thin client's name: local xpra clients carry it as
// their identity, so that xpra tells apart the clients of one user at
// two locations.
func Specs(p *config.Profile, location string) []sessions.Spec {
	var specs []sessions.Spec
	for _, d := range p.Displays {
		if p.Client == config.ClientLocal {
			specs = append(specs, sessions.LocalDisplaySpec(d, p.XpraArgs, location))
			continue
		}
		specs = append(specs, sessions.DisplaySpec(d))
	}
	for _, s := range p.Sessions {
		specs = append(specs, sessions.Spec{Name: s.Name, Command: s.Command})
	}
	return specs
}

// Forwards lists a profile's forwards.
func Forwards(p *config.Profile) []sessions.ForwardSpec {
	var fw []sessions.ForwardSpec
	for _, f := range p.Forwards {
		fw = append(fw, sessions.ForwardSpec{Listen: f.Listen, To: f.To})
	}
	return fw
}

// setLink keeps the link when the server is the same (changing only its
// sessions and forwards), else replaces it. take: display sessions that
// start take their displays as the profile's take key says (a start or a
// switch); otherwise only displays no live location holds (a reconnect).
func (a *Agent) setLink(cfg *config.Config, prof *config.Profile, take bool) error {
	a.mu.Lock()
	lr := a.link
	a.mu.Unlock()
	if prof.Server == "" {
		a.stopLink()
		return nil
	}
	srv := cfg.Servers[prof.Server]
	claims := sessions.Claims{Location: cfg.Location, AgentID: a.id, TakeAlways: take && prof.Take != config.TakeIfFree}
	if lr != nil && lr.server == prof.Server && lr.srv == *srv {
		lr.link.SetClaims(claims)
		lr.link.SetSessions(Specs(prof, cfg.Location))
		if err := lr.link.SetForwards(Forwards(prof)); err != nil {
			return err
		}
		return nil
	}
	a.stopLink()
	l, err := a.opts.NewLink(prof.Server, srv)
	if err != nil {
		return err
	}
	l.SetClaims(claims)
	l.SetSessions(Specs(prof, cfg.Location))
	if err := l.SetForwards(Forwards(prof)); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(a.runCtx)
	lr = &linkRun{server: prof.Server, srv: *srv, link: l, cancel: cancel, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		defer close(lr.done)
		err := l.Run(ctx)
		started <- err
		if err != nil {
			a.log.Error("link stopped", "server", prof.Server, "err", err)
			a.setErr(err)
		}
	}()
	go func() {
		for {
			select {
			case <-lr.done:
				a.notify()
				return
			case <-l.Changes():
				a.notify()
			}
		}
	}()
	// The link says whether it started: a forward that cannot listen
	// makes Run return its error instead.
	select {
	case err := <-started:
		if err != nil {
			return err
		}
	case <-l.Started():
	}
	a.mu.Lock()
	a.link = lr
	a.mu.Unlock()
	a.notify()
	return nil
}

// stopLink stops the running link, if any, and waits for it.
func (a *Agent) stopLink() {
	a.mu.Lock()
	lr := a.link
	a.link = nil
	a.mu.Unlock()
	if lr != nil {
		lr.cancel()
		<-lr.done
	}
}

func (a *Agent) reload(ctx context.Context) error {
	a.mu.Lock()
	old, profile, auto, since := a.cfg, a.profile, a.wantAuto && a.override == "", a.since
	a.mu.Unlock()
	path := old.Path
	cfg, err := config.Load(path)
	if err != nil {
		err = fmt.Errorf("reload: %w; still running profile %s", err, profile)
		a.log.Error("reload failed", "err", err)
		a.setErr(err)
		return err
	}
	if !auto {
		// Refused before the new configuration is taken: the running
		// profile and the configuration it came from both stay.
		if _, err := cfg.Profile(profile); err != nil {
			err = &UserError{fmt.Sprintf("reload: profile %s is no longer in %s; still running it with the previous configuration", profile, path)}
			a.log.Error("reload failed", "err", err)
			a.setErr(err)
			return err
		}
	}
	a.mu.Lock()
	a.cfg = cfg
	a.mu.Unlock()
	a.logWarnings(cfg)
	// fail undoes the reload when nothing of the new configuration reached
	// the screen (no profile matched, a hook or the layout was refused):
	// the running profile goes on with the configuration it came from, as
	// after a broken file. Once a layout was applied the new configuration
	// is the one in effect, and the error is the switch's own.
	fail := func(err error) error {
		// A layout change that failed half-way and could not be undone
		// left the screen partly in the new layout: that counts as applied.
		var se *xrandr.StepError
		partial := errors.As(err, &se) && !se.Restored
		a.mu.Lock()
		applied := !a.since.Equal(since) || partial
		if !applied {
			a.cfg = old
		}
		a.mu.Unlock()
		if applied {
			return err
		}
		err = fmt.Errorf("reload: %w; still running profile %s with the previous configuration", err, profile)
		a.log.Error("reload failed", "err", err)
		a.setErr(err)
		return err
	}
	if auto {
		st, err := a.opts.Display.Probe()
		if err != nil {
			return fail(fmt.Errorf("read the outputs: %w", err))
		}
		winner, err := Pick(cfg, st)
		if err != nil {
			return fail(err)
		}
		if err := a.run(ctx, winner, winner != profile); err != nil {
			return fail(err)
		}
	} else if err := a.run(ctx, profile, false); err != nil {
		return fail(err)
	}
	a.log.Info("configuration reloaded", "path", path)
	return nil
}

// hangups holds SIGHUP from CatchHangups on.
var hangups struct {
	once sync.Once
	ch   chan os.Signal
}

// CatchHangups makes SIGHUP no longer end the process: call it first thing
// in main. A hangup that arrives before the agent runs is kept, and
// ReloadOnHangup reloads for it once it runs; a command that is no agent
// ends on it through StopOnHangup.
func CatchHangups() {
	hangups.once.Do(func() {
		hangups.ch = make(chan os.Signal, 1)
		signal.Notify(hangups.ch, syscall.SIGHUP)
	})
}

// StopOnHangup returns a context that also ends at a SIGHUP caught by
// CatchHangups, as the signal's default action would end the command.
func StopOnHangup(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if hangups.ch != nil {
		go func() {
			select {
			case <-hangups.ch:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// ReloadOnHangup reloads the configuration at every SIGHUP until ctx ends,
// as `perch up` and the tray do. The channel is closed once it has stopped
// listening for the signal.
func (a *Agent) ReloadOnHangup(ctx context.Context) <-chan struct{} {
	hup := hangups.ch
	if hup == nil {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if hup != hangups.ch {
			defer signal.Stop(hup)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.log.Info("SIGHUP: reloading the configuration")
				_ = a.Reload(ctx)
			}
		}
	}()
	return done
}
