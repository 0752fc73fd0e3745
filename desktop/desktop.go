// Package desktop gives the agent and the CLI the monitors of a Wayland
// session (wlroots or GNOME) in the same form as RandR's: it opens the
// backend the session offers, plans with the shared planner and shows
// states and plans as xrandr's State and Plan, so that matching, auto
// switching, status and layout save work unchanged.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/perchdesk/perch/layout"
	"github.com/perchdesk/perch/mutter"
	"github.com/perchdesk/perch/wlr"
	"github.com/perchdesk/perch/xrandr"
)

// The backends, as `perch outputs` names them.
const (
	RandR   = "randr"
	Wlroots = "wlroots"
	Mutter  = "mutter"
)

// Backend is a Wayland compositor's output configuration (wlr.Backend,
// mutter.Backend).
type Backend interface {
	Name() string
	State(ctx context.Context) (*layout.Screen, error)
	Apply(ctx context.Context, t *layout.Target) error
	Watch(ctx context.Context) (<-chan struct{}, error)
	Close() error
}

// timeout bounds each call to the compositor.
const timeout = 10 * time.Second

// Open connects to the Wayland session's layout backend: wlroots'
// wlr-output-management when WAYLAND_DISPLAY's compositor offers it, else
// GNOME's Mutter DisplayConfig when the session bus has it. It returns
// nil and the reasons when the session has neither.
func Open(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Wayland, error) {
	var errs []error
	if getenv("WAYLAND_DISPLAY") != "" {
		b, err := wlr.Dial(ctx, getenv)
		if err == nil {
			return New(b, log), nil
		}
		errs = append(errs, err)
	}
	m, err := mutter.DialBus(ctx, getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err == nil {
		return New(m, log), nil
	}
	return nil, errors.Join(append(errs, err)...)
}

// Wayland is a Wayland backend as the agent's Display.
type Wayland struct {
	b    Backend
	log  *slog.Logger
	last *layout.Screen // what Current read last, for Plan
}

// New wraps a backend; log (nil: slog.Default) gets its notes.
func New(b Backend, log *slog.Logger) *Wayland {
	if log == nil {
		log = slog.Default()
	}
	return &Wayland{b: b, log: log}
}

// Backend is the backend's name: wlroots or mutter.
func (w *Wayland) Backend() string { return w.b.Name() }

// Close closes the connection to the compositor.
func (w *Wayland) Close() { _ = w.b.Close() }

func (w *Wayland) screen() (*layout.Screen, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.b.State(ctx)
}

// Probe reads the outputs (a compositor always knows its monitors).
func (w *Wayland) Probe() (*xrandr.State, error) { return w.Current() }

// Current reads the outputs.
func (w *Wayland) Current() (*xrandr.State, error) {
	sc, err := w.screen()
	if err != nil {
		return nil, err
	}
	w.last = sc
	return StateOf(sc), nil
}

// Planned is a target planned by Plan, to show and to apply.
type Planned struct {
	Target *layout.Target
	Plan   *xrandr.Plan // the target as RandR's plan, for the CLI's views
}

// Plan plans l on the outputs as Current last read them (reading them
// now when it did not), without applying it: one read for a command that
// shows the outputs, plans and applies.
func (w *Wayland) Plan(l xrandr.Layout) (*Planned, error) {
	sc := w.last
	if sc == nil {
		var err error
		if sc, err = w.screen(); err != nil {
			return nil, err
		}
	}
	t, err := w.plan(sc, l)
	if err != nil {
		return nil, err
	}
	return &Planned{Target: t, Plan: PlanOf(t, StateOf(sc))}, nil
}

// ApplyPlanned applies what Plan planned. Outputs that changed since
// they were read make the compositor refuse it, changing nothing.
func (w *Wayland) ApplyPlanned(p *Planned) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := w.b.Apply(ctx, p.Target); err != nil {
		return fmt.Errorf("%s: %w", w.b.Name(), err)
	}
	return nil
}

// plan is the shared planner, with the backend's own rules: wlroots has
// no primary output, so a primary in the profile is noted and ignored.
func (w *Wayland) plan(sc *layout.Screen, l xrandr.Layout) (*layout.Target, error) {
	if w.b.Name() == Wlroots {
		l.Outputs = slices.Clone(l.Outputs)
		for i := range l.Outputs {
			if l.Outputs[i].Primary {
				w.log.Info("primary is ignored: wlroots compositors have no primary output", "output", l.Outputs[i].Name)
				l.Outputs[i].Primary = false
			}
		}
	}
	return layout.Plan(sc, l)
}

// Apply plans and applies l. When the outputs changed between the read
// and the apply (a stale state), it reads and plans once more.
func (w *Wayland) Apply(l xrandr.Layout) (*xrandr.Plan, error) {
	for attempt := 0; ; attempt++ {
		sc, err := w.screen()
		if err != nil {
			return nil, err
		}
		t, err := w.plan(sc, l)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err = w.b.Apply(ctx, t)
		cancel()
		if err != nil && attempt == 0 && stale(err) {
			w.log.Info("the outputs changed while perch planned: planning again", "err", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.b.Name(), err)
		}
		return PlanOf(t, StateOf(sc)), nil
	}
}

func stale(err error) bool {
	var mr *mutter.Refusal
	var wr *wlr.Refusal
	return errors.As(err, &mr) && mr.Kind == "stale" || errors.As(err, &wr) && wr.Stale
}

// Watch delivers an OutputChanged event each time the compositor's outputs
// change, until ctx ends.
func (w *Wayland) Watch(ctx context.Context) (<-chan xrandr.Event, error) {
	ch, err := w.b.Watch(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan xrandr.Event)
	go func() {
		defer close(out)
		for range ch {
			select {
			case out <- xrandr.Event{Kind: xrandr.OutputChanged, Connected: true, Connection: "connected"}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
