package ui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
)

// fakeAPI is an agent behind a real control socket.
type fakeAPI struct {
	mu      sync.Mutex
	st      api.Status
	calls   []string
	updated chan struct{}
}

func (f *fakeAPI) Updated() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.updated == nil {
		f.updated = make(chan struct{})
	}
	return f.updated
}

func (f *fakeAPI) Status() api.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeAPI) set(st api.Status) {
	f.mu.Lock()
	f.st = st
	if f.updated != nil {
		close(f.updated)
		f.updated = nil
	}
	f.mu.Unlock()
}

func (f *fakeAPI) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeAPI) Switch(_ context.Context, p string) error {
	if p == "nope" {
		return &api.UserError{Msg: `unknown profile "nope"`}
	}
	f.record("switch " + p)
	return nil
}

func (f *fakeAPI) Reconnect(_ context.Context, s string) error {
	f.record("reconnect " + s)
	return nil
}

func (f *fakeAPI) Reload(context.Context) error     { f.record("reload"); return nil }
func (f *fakeAPI) Disconnect(context.Context) error { f.record("disconnect"); return nil }
func (f *fakeAPI) Take(_ context.Context, s []string) error {
	f.record("take " + strings.Join(s, ","))
	return nil
}

// serve starts a control socket for fake in a temporary directory.
func serve(t *testing.T, fake control.API) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := control.Listen(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = control.Serve(ctx, ln, fake, func() {})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

func TestClientBackend(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{st: status("desk", api.ModeManual, api.LinkUp, ":10=attached")}
	b := NewClientBackend(&control.Client{Path: serve(t, fake)}, time.Hour) // an hour: changes must come from the stream, not from retries
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	st, err := b.Status(ctx)
	if err != nil || st.Profile != "desk" || len(st.Sessions) != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	<-b.Changes() // the first status seen is a change
	if err := b.Switch(ctx, "couch"); err != nil {
		t.Fatal(err)
	}
	if err := b.Reconnect(ctx, ":10"); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var re *control.RequestError
	if err := b.Switch(ctx, "nope"); !errors.As(err, &re) || !re.Invalid {
		t.Fatalf("Switch(nope) = %v, want an invalid RequestError", err)
	}
	fake.mu.Lock()
	calls := append([]string(nil), fake.calls...)
	fake.mu.Unlock()
	if want := []string{"switch couch", "reconnect :10", "reload"}; len(calls) != 3 || calls[0] != want[0] || calls[1] != want[1] || calls[2] != want[2] {
		t.Fatalf("calls = %q, want %q", calls, want)
	}

	// Run follows the event stream and signals a change of state.
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); b.Run(runCtx) }()
	defer func() { stop(); <-ran }()
	select { // drain what the calls above left
	case <-b.Changes():
	default:
	}
	fake.set(status("desk", api.ModeManual, api.LinkDown, ":10=starting"))
	for {
		select {
		case <-b.Changes():
		case <-ctx.Done():
			t.Fatal("no change signalled after the link went down")
		}
		st, err := b.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Link.State == api.LinkDown {
			return
		}
	}
}

func TestClientBackendNoAgent(t *testing.T) {
	t.Parallel()
	b := NewClientBackend(&control.Client{Path: filepath.Join(t.TempDir(), "none.sock")}, 0)
	_, err := b.Status(context.Background())
	if !errors.Is(err, control.ErrNoAgent) {
		t.Fatalf("Status = %v, want ErrNoAgent", err)
	}
	if m := Present(api.Status{}, err, Caps{}); m.Icon != IconDisconnected || len(m.Items) != 5 {
		t.Fatalf("model for no agent: %+v", m)
	}
}

// The agent behind the socket stops and another starts: the backend shows
// the loss, then follows the new one.
func TestClientBackendAgentRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "control.sock")
	start := func(profile string) (stop func()) {
		ln, err := control.Listen(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		fake := &fakeAPI{st: status(profile, api.ModeManual, api.LinkUp, ":10=attached")}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = control.Serve(ctx, ln, fake, func() {})
		}()
		return func() { cancel(); <-done }
	}
	stop := start("desk")
	b := NewClientBackend(&control.Client{Path: path}, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); b.Run(runCtx) }()
	defer func() { stopRun(); <-ran }()

	// waitFor waits for a change after which Status satisfies ok.
	waitFor := func(what string, ok func(api.Status, error) bool) {
		t.Helper()
		for {
			select {
			case <-b.Changes():
			case <-ctx.Done():
				t.Fatalf("no change signalled: %s", what)
			}
			if ok(b.Status(ctx)) {
				return
			}
		}
	}
	waitFor("the first agent", func(st api.Status, err error) bool { return err == nil && st.Profile == "desk" })
	stop()
	waitFor("the agent stopped", func(_ api.Status, err error) bool { return errors.Is(err, control.ErrNoAgent) })
	stop = start("couch")
	defer stop()
	waitFor("the second agent", func(st api.Status, err error) bool { return err == nil && st.Profile == "couch" })
}
