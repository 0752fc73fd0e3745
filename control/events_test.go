package control

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
)

// watch follows the agent on sock into a channel until ctx ends; the
// second channel gets Watch's result.
func watch(ctx context.Context, sock string) (<-chan api.Status, <-chan error) {
	sts, end := make(chan api.Status, 64), make(chan error, 1)
	go func() {
		end <- (&Client{Path: sock}).Watch(ctx, func(st api.Status) { sts <- st })
	}()
	return sts, end
}

func nextStatus(t *testing.T, sts <-chan api.Status, what string) api.Status {
	t.Helper()
	select {
	case st := <-sts:
		return st
	case <-time.After(5 * time.Second):
		t.Fatalf("no status on the event stream: %s", what)
		return api.Status{}
	}
}

// The event stream gives every watcher the status now and after each
// change, and nothing while nothing changes; it ends when the watcher goes
// and when the agent stops.
func TestEvents(t *testing.T) {
	ca := startCatAgent(t, "desk")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{Path: ca.sock}

	ctx1, stop1 := context.WithCancel(ctx)
	defer stop1()
	sts1, end1 := watch(ctx1, ca.sock)
	sts2, end2 := watch(ctx, ca.sock)
	for i, sts := range []<-chan api.Status{sts1, sts2} {
		if st := nextStatus(t, sts, "the first"); st.Profile != "desk" {
			t.Fatalf("watcher %d: first status has profile %q, want desk", i+1, st.Profile)
		}
	}
	select {
	case st := <-sts1:
		t.Fatalf("a status while nothing changed: %+v", st)
	case <-time.After(300 * time.Millisecond):
	}

	if _, err := c.Switch(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	for _, sts := range []<-chan api.Status{sts1, sts2} {
		for st := nextStatus(t, sts, "after the switch"); st.Profile != "local"; st = nextStatus(t, sts, "after the switch") {
		}
	}

	stop1()
	select {
	case err := <-end1:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch after its context ended = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return when its context ended")
	}

	// perch down: the stream ends at once, not after the server's 5 s
	// grace for requests in flight.
	if _, err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-end2:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("Watch after the agent stopped = %v, want an error", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the event stream did not end when the agent stopped")
	}
}
