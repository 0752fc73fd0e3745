package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
)

// Backend is the agent as the tray uses it.
type Backend interface {
	// Status reads the agent's state; an error means the agent cannot be
	// reached (or has stopped).
	Status(ctx context.Context) (api.Status, error)
	Switch(ctx context.Context, profile string) error
	// Reconnect re-establishes the link (session "") or restarts a session.
	Reconnect(ctx context.Context, session string) error
	Reload(ctx context.Context) error
	// Changes signals, coalesced, that Status may have changed.
	Changes() <-chan struct{}
}

// Disconnecter is a Backend that can also drop the link on request; the
// menu then offers Disconnect.
type Disconnecter interface {
	Disconnect(ctx context.Context) error
}

// Taker is a Backend that can bring sessions here from another location
// (all of them when none is named).
type Taker interface {
	Take(ctx context.Context, sessions []string) error
}

// Agent is the in-process agent as AgentBackend uses it (*agent.Agent).
type Agent interface {
	Run(ctx context.Context, initial string) error
	Changes() <-chan struct{}
	Status() api.Status
	Switch(ctx context.Context, profile string) error
	Reconnect(ctx context.Context, session string) error
	Reload(ctx context.Context) error
	Disconnect(ctx context.Context) error
	Take(ctx context.Context, sessions []string) error
}

// AgentBackend is an agent running in this process. Run it with Run.
type AgentBackend struct {
	a       Agent
	changes chan struct{}

	mu      sync.Mutex
	stopped error // non-nil once the agent's Run returned
}

// NewAgentBackend wraps a, which must not be running yet.
func NewAgentBackend(a Agent) *AgentBackend {
	return &AgentBackend{a: a, changes: make(chan struct{}, 1)}
}

// Run runs the agent (agent.Run) until ctx ends, forwarding its changes;
// once it returns, Status reports the agent as stopped.
func (b *AgentBackend) Run(ctx context.Context, initial string) error {
	done := make(chan struct{})
	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		for {
			select {
			case <-done:
				return
			case <-b.a.Changes():
				signal(b.changes)
			}
		}
	}()
	err := b.a.Run(ctx, initial)
	close(done)
	<-fwd
	stopped := api.ErrStopped
	if err != nil {
		stopped = fmt.Errorf("the agent stopped: %w", err)
	}
	b.mu.Lock()
	b.stopped = stopped
	b.mu.Unlock()
	signal(b.changes)
	return err
}

// Status returns the agent's status, and why it stopped once it has.
func (b *AgentBackend) Status(context.Context) (api.Status, error) {
	b.mu.Lock()
	err := b.stopped
	b.mu.Unlock()
	return b.a.Status(), err
}

// Switch runs a profile, or "auto".
func (b *AgentBackend) Switch(ctx context.Context, profile string) error {
	return b.a.Switch(ctx, profile)
}

// Reconnect re-establishes the link or restarts a session.
func (b *AgentBackend) Reconnect(ctx context.Context, session string) error {
	return b.a.Reconnect(ctx, session)
}

// Reload re-reads the configuration.
func (b *AgentBackend) Reload(ctx context.Context) error { return b.a.Reload(ctx) }

// Disconnect implements Disconnecter.
func (b *AgentBackend) Disconnect(ctx context.Context) error { return b.a.Disconnect(ctx) }

// Take implements Taker.
func (b *AgentBackend) Take(ctx context.Context, sessions []string) error {
	return b.a.Take(ctx, sessions)
}

// Changes signals the agent's changes, and its end.
func (b *AgentBackend) Changes() <-chan struct{} { return b.changes }

// ClientBackend is an agent reached through its control socket (a `perch
// up` that holds it). Run follows the agent's event stream, so the tray
// learns of every change at once and does nothing while nothing happens.
type ClientBackend struct {
	c     *control.Client
	retry time.Duration
	// changes is signalled when the status (or the error) seen changes.
	changes chan struct{}

	mu   sync.Mutex
	last string // the last status (or error) seen, as JSON
}

// NewClientBackend talks to c; when the agent cannot be reached, Run tries
// again after retry (1 s when zero), doubling up to 30 s.
func NewClientBackend(c *control.Client, retry time.Duration) *ClientBackend {
	if retry <= 0 {
		retry = time.Second
	}
	return &ClientBackend{c: c, retry: retry, changes: make(chan struct{}, 1)}
}

// Run follows the agent until ctx ends. A broken stream (the agent went)
// is shown as the error and followed again after a pause.
func (b *ClientBackend) Run(ctx context.Context) {
	wait := b.retry
	for {
		got := false
		err := b.c.Watch(ctx, func(st api.Status) {
			got = true
			b.seen(st, nil)
		})
		if ctx.Err() != nil {
			return
		}
		if got {
			wait = b.retry
		}
		b.seen(api.Status{}, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Status asks the agent; a status different from the last one seen also
// signals Changes.
func (b *ClientBackend) Status(ctx context.Context) (api.Status, error) {
	st, err := b.c.Status(ctx)
	b.seen(st, err)
	if err != nil {
		return st, fmt.Errorf("perch agent on %s: %w", b.c.Path, err)
	}
	return st, nil
}

func (b *ClientBackend) seen(st api.Status, err error) {
	var key string
	if err != nil {
		key = "error: " + err.Error()
	} else {
		j, _ := json.Marshal(st)
		key = string(j)
	}
	b.mu.Lock()
	changed := key != b.last
	b.last = key
	b.mu.Unlock()
	if changed {
		signal(b.changes)
	}
}

// Switch asks the agent for a profile, or "auto".
func (b *ClientBackend) Switch(ctx context.Context, profile string) error {
	return b.answer(b.c.Switch(ctx, profile))
}

// Reconnect asks the agent to reconnect the link or restart a session.
func (b *ClientBackend) Reconnect(ctx context.Context, session string) error {
	return b.answer(b.c.Reconnect(ctx, session))
}

// Reload asks the agent to re-read its configuration.
func (b *ClientBackend) Reload(ctx context.Context) error {
	return b.answer(b.c.Reload(ctx))
}

// Disconnect implements Disconnecter.
func (b *ClientBackend) Disconnect(ctx context.Context) error {
	return b.answer(b.c.Disconnect(ctx))
}

// Take implements Taker.
func (b *ClientBackend) Take(ctx context.Context, sessions []string) error {
	return b.answer(b.c.Take(ctx, sessions))
}

// Changes signals a status different from the last one seen.
func (b *ClientBackend) Changes() <-chan struct{} { return b.changes }

func (b *ClientBackend) answer(st api.Status, err error) error {
	if err != nil {
		var re *control.RequestError
		if errors.As(err, &re) {
			return err
		}
		return fmt.Errorf("perch agent on %s: %w", b.c.Path, err)
	}
	b.seen(st, nil)
	return nil
}

// signal sends on a coalescing channel without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
