package claims

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestSession: a display session's side of the claims, with two
// locations' watchers (the real script, run by the local sh) on one
// state directory: the first start claims a free display; a take moves
// it; the displaced session shows where it went and waits there until it
// is woken; a take under follow leaves a display just taken where it is.
func TestSession(t *testing.T) {
	home := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	type place struct {
		s     *Session
		c     Conn
		shown chan string
		wake  chan struct{}
	}
	newPlace := func(loc, id string, take bool) *place {
		p := &place{shown: make(chan string, 8), wake: make(chan struct{}, 1)}
		p.s = NewSession(10, ":10", take, func(h string) {
			select {
			case p.shown <- h:
			default: // shown again: the first is what counts
			}
		}, log)
		p.c = Conn{W: localWatcher(t, home, Config{Location: loc, AgentID: id}), Wake: p.wake}
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desk, sofa := newPlace("desk", "a1", false), newPlace("sofa", "b2", true)
	type result struct{ moved, ok bool }
	done := make(chan result, 1)
	// shown and ended wait, up to the test's deadline.
	shown := func(p *place) string {
		t.Helper()
		select {
		case h := <-p.shown:
			return h
		case <-ctx.Done():
			t.Fatal("nothing shown before the deadline")
			return ""
		}
	}
	ended := func() result {
		t.Helper()
		select {
		case r := <-done:
			return r
		case <-ctx.Done():
			t.Fatal("still waiting at the deadline")
			return result{}
		}
	}

	if attach, ok := desk.s.Here(ctx, desk.c); !attach || !ok {
		t.Fatalf("the desk's first start on a free display: attach %v ok %v", attach, ok)
	}
	if attach, ok := sofa.s.Here(ctx, sofa.c); !attach || !ok {
		t.Fatalf("the sofa's take: attach %v ok %v", attach, ok)
	}
	if c, live := ask(t, desk.c.W, "tick").Holder(10); !live || c.Location != "sofa" {
		t.Fatalf("after the sofa's take: %+v (live %v)", c, live)
	}

	// The desk's client ended: displaced, it shows the sofa and waits.
	go func() {
		moved, ok := desk.s.Displaced(ctx, desk.c)
		done <- result{moved, ok}
	}()
	if h := shown(desk); h != "sofa" {
		t.Errorf("the displaced desk shows %q, want sofa", h)
	}
	select {
	case r := <-done:
		t.Fatalf("the displaced desk did not wait: %+v", r)
	case <-time.After(300 * time.Millisecond): // long enough to see it return at once, if it did
	}
	desk.s.Ask(0)
	desk.wake <- struct{}{}
	if r := ended(); !r.moved || !r.ok {
		t.Fatalf("woken: %+v", r)
	}
	if attach, ok := desk.s.Here(ctx, desk.c); !attach || !ok {
		t.Fatalf("the desk asked back: attach %v ok %v", attach, ok)
	}

	// Follow: a take with a minimum age leaves a display just taken.
	sofa.s.Ask(time.Hour)
	go func() {
		attach, ok := sofa.s.Here(ctx, sofa.c)
		done <- result{attach, ok}
	}()
	if h := shown(sofa); h != "desk" {
		t.Errorf("the following sofa shows %q, want desk", h)
	}
	sofa.wake <- struct{}{}
	if r := ended(); r.moved || !r.ok {
		t.Fatalf("the following sofa attached: %+v", r)
	}
	if c, _ := ask(t, desk.c.W, "tick").Holder(10); c.Location != "desk" {
		t.Errorf("follow took a display taken a moment ago: %+v", c)
	}
}
