package agent

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// key injects a key press at a location through XTEST.
func key(t *testing.T, x *testbed.Display) time.Time {
	t.Helper()
	cmd := exec.Command("xdotool", "key", "shift")
	cmd.Env = append(os.Environ(), x.Env()...)
	at := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool at %s: %v: %s", x.Name, err, out)
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
// moves them at most once per follow_after.
func TestLocationsFollow(t *testing.T) {
	b := needLocations(t)
	const after = 5 * time.Second
	desk := b.startPlaceFollow(t, "desk", b.remote.Local, config.TakeAlways, false, after)
	waitFor(t, "the desk attached", 60*time.Second, func() bool { return holder(t, desk) == "desk" }, desk)
	sofa := b.startPlaceFollow(t, "sofa", b.sofa, config.TakeAlways, false, after)
	waitFor(t, "the sofa took them", 60*time.Second, func() bool { return holder(t, desk, sofa) == "sofa" }, desk, sofa)

	// The desk has been idle since it started; a key there brings them.
	time.Sleep(after) // no input for follow_after: the condition, not a wait for an event
	pressed := key(t, desk.x)
	waitFor(t, "a key at the desk brings them", 30*time.Second, func() bool { return holder(t, desk, sofa) == "desk" }, desk, sofa)
	t.Logf("follow: key press at the desk to every window there and none at the sofa: %s", time.Since(pressed).Round(time.Millisecond))

	// Input alternating every 3 s: each place is idle 6 s between its
	// own inputs, but a move may only come follow_after after the last.
	time.Sleep(after) // both idle
	var moves []time.Time
	last := "desk"
	places := []*place{sofa, desk}
	end := time.Now().Add(21 * time.Second)
	for i := 0; time.Now().Before(end); i++ {
		key(t, places[i%2].x)
		for next := time.Now().Add(3 * time.Second); time.Now().Before(next); time.Sleep(50 * time.Millisecond) {
			if h := holder(t, desk, sofa); h != "" && h != last {
				moves = append(moves, time.Now())
				last = h
			}
		}
	}
	t.Logf("alternating input: %d moves", len(moves))
	if len(moves) < 2 {
		t.Errorf("%d moves in 21 s of alternating input, want at least 2 (follow works while both are used)", len(moves))
	}
	for i := 1; i < len(moves); i++ {
		if gap := moves[i].Sub(moves[i-1]); gap < after-time.Second {
			t.Errorf("moves %d and %d only %s apart (follow_after %s): ping-pong", i, i+1, gap.Round(time.Millisecond), after)
		}
	}
}
