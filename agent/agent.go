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
	"log/slog"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/claims"
	"github.com/perchdesk/perch/sessions/forward"
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
	// Run runs the link until ctx ends. It always starts: what fails
	// (a server out of reach, a forward that cannot listen) is in Status.
	Run(ctx context.Context)
	// Started is closed once Run has started its sessions and forwards.
	Started() <-chan struct{}
	SetSessions([]sessions.Spec)
	SetForwards([]forward.Spec)
	Status() sessions.Status
	Changes() <-chan struct{}
	Reconnect()
	RestartSession(name string) error
	// NetworkChanged: the machine's network changed; a link waiting to
	// retry tries now.
	NetworkChanged()
	// SetClaims sets this location's name and how display sessions take
	// their displays from other locations (claims.Config).
	SetClaims(claims.Config)
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
	screen   api.Screen
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
		opts: o, log: o.Log, cfg: o.Config, id: claims.NewAgentID(),
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

// do runs fn on the owner goroutine and waits for it.
func (a *Agent) do(ctx context.Context, fn func(ctx context.Context) error) error {
	r := request{fn: fn, done: make(chan error, 1)}
	select {
	case a.reqs <- r:
	case <-a.stopped:
		return api.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-a.stopped:
		return api.ErrStopped
	}
}

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
