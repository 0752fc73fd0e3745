package agent

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/testrig/keys"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// keyboard presses keys at a location through XTEST.
func keyboard(t *testing.T, x *testbed.Display) *keys.Keyboard {
	t.Helper()
	kb, err := keys.Open(x)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kb.Close)
	return kb
}

// press presses a key, as a person at the keyboard.
func press(t *testing.T, kb *keys.Keyboard) time.Time {
	t.Helper()
	at := time.Now()
	if err := kb.Press(); err != nil {
		t.Fatal(err)
	}
	return at
}

// holder is the location holding every display with its windows, "" while
// they move.
func holder(t *testing.T, places ...*place) string {
	for _, p := range places {
		if p.all(api.SessionAttached, "") && windows(t, p.x) == 2 {
			others := 0
			for _, o := range places {
				if o != p {
					others += windows(t, o.x)
				}
			}
			if others == 0 {
				return p.name
			}
		}
	}
	return ""
}

// TestLocationsFollow: with follow = "activity", input at the idle
// location brings the sessions there; input alternating every 3 s at both
// moves them, but at most once per follow_after.
func TestLocationsFollow(t *testing.T) {
	b := needLocations(t)
	const after = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	desk := b.startPlaceFollow(t, "desk", b.remote.Local, config.TakeAlways, false, after)
	waitFor(t, "the desk attached", 60*time.Second, func() bool { return holder(t, desk) == "desk" }, desk)
	sofa := b.startPlaceFollow(t, "sofa", b.sofa, config.TakeAlways, false, after)
	waitFor(t, "the sofa took them", 60*time.Second, func() bool { return holder(t, desk, sofa) == "sofa" }, desk, sofa)
	kbs := map[*place]*keys.Keyboard{desk: keyboard(t, desk.x), sofa: keyboard(t, sofa.x)}

	// The desk has been idle since it started (the X server's count), and
	// the sofa took them follow_after ago: a key at the desk brings them.
	if err := kbs[desk].WaitIdle(ctx, after); err != nil {
		t.Fatal(err)
	}
	takenFor(t, ctx, desk, after)
	pressed := press(t, kbs[desk])
	waitFor(t, "a key at the desk brings them", 30*time.Second, func() bool { return holder(t, desk, sofa) == "desk" }, desk, sofa)
	t.Logf("follow: key press at the desk to every window there and none at the sofa: %s", time.Since(pressed).Round(time.Millisecond))

	// Input alternating every 3 s: each place is idle 6 s between its own
	// inputs, but a move may only come follow_after after the last. A
	// move is seen as it starts (the agent's status at the place taking
	// them), not when the windows arrive, which load can delay.
	for _, p := range []*place{desk, sofa} {
		if err := kbs[p].WaitIdle(ctx, after); err != nil {
			t.Fatal(err)
		}
	}
	takenFor(t, ctx, sofa, after)
	moves := alternate(t, ctx, []*place{sofa, desk}, kbs, 3)
	t.Logf("alternating input: %d moves", len(moves))
	if len(moves) < 2 {
		t.Errorf("%d moves in 2 minutes of alternating input, want at least 2 (follow works while both are used)", len(moves))
	}
	for i := 1; i < len(moves); i++ {
		if gap := moves[i].Sub(moves[i-1]); gap < after-time.Second {
			t.Errorf("moves %d and %d only %s apart (follow_after %s): ping-pong", i, i+1, gap.Round(time.Millisecond), after)
		}
	}
}

// takenFor waits until p's sessions have been elsewhere for d: another
// location took them at least d ago, so a take may bring them back
// (follow_after). It waits for p's agent to see them elsewhere (its
// status changes), then for the point in time that makes.
func takenFor(t *testing.T, ctx context.Context, p *place, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var since time.Time
	for {
		updated := p.a.Updated()
		st := p.a.Status()
		elsewhere := len(st.Sessions) > 0
		for _, s := range st.Sessions {
			elsewhere = elsewhere && s.State == api.SessionElsewhere
			if s.Since.After(since) {
				since = s.Since
			}
		}
		if elsewhere {
			break
		}
		since = time.Time{}
		select {
		case <-updated:
		case <-ctx.Done():
			t.Fatalf("%s: sessions not elsewhere within a minute: %s", p.name, p.describe())
		}
	}
	// Since is when this agent saw the take: at or after the claim.
	tm := time.NewTimer(time.Until(since.Add(d)))
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

// alternate presses a key every 3 s at each place in turn until want
// moves started (or 2 minutes passed, or ctx ended) and returns when they
// started: when a place whose sessions were all elsewhere began taking
// them, as its agent's status changed.
func alternate(t *testing.T, ctx context.Context, places []*place, kbs map[*place]*keys.Keyboard, want int) []time.Time {
	t.Helper()
	elsewhere := func(p *place) bool {
		st := p.a.Status()
		return len(st.Sessions) > 0 && !slices.ContainsFunc(st.Sessions, func(s api.SessionStatus) bool { return s.State != api.SessionElsewhere })
	}
	was := map[*place]bool{}
	for _, p := range places {
		was[p] = elsewhere(p)
	}
	var moves []time.Time
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for i := 0; len(moves) < want && ctx.Err() == nil; i++ {
		press(t, kbs[places[i%2]])
		next := time.NewTimer(3 * time.Second)
		for wait := true; wait; {
			changed := []<-chan struct{}{places[0].a.Updated(), places[1].a.Updated()}
			for _, p := range places {
				now := elsewhere(p)
				if was[p] && !now {
					moves = append(moves, time.Now())
				}
				was[p] = now
			}
			select {
			case <-changed[0]:
			case <-changed[1]:
			case <-next.C:
				wait = false
			case <-ctx.Done():
				wait = false
			}
		}
		next.Stop()
	}
	return moves
}
