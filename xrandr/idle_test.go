package xrandr_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/perchdesk/perch/xrandr"
)

// input injects a key press through XTEST, as a person at the display.
func input(t *testing.T) time.Time {
	t.Helper()
	at := time.Now()
	if out, err := exec.Command("xdotool", "key", "shift").CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v: %s", err, out)
	}
	return at
}

// TestWatchActivity: input after the idle time is one event; input while
// the user is active is none.
func TestWatchActivity(t *testing.T) {
	dial(t) // skips without the bed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const after = 400 * time.Millisecond
	// The display has been idle since its start: the first key counts.
	time.Sleep(after) // the idleness the test needs
	ch, err := xrandr.WatchActivity(ctx, bed.Name, after)
	if err != nil {
		t.Fatal(err)
	}
	expect := func(what string, want bool, within time.Duration) {
		t.Helper()
		select {
		case <-ch:
			if !want {
				t.Fatalf("%s: an activity event, want none", what)
			}
		case <-time.After(within):
			if want {
				t.Fatalf("%s: no activity event within %s", what, within)
			}
		}
	}
	input(t)
	expect("the first key after idleness", true, 5*time.Second)
	// Busy: keys every 100 ms never leave 400 ms of idleness.
	for range 8 {
		input(t)
		expect("keys every 100 ms", false, 100*time.Millisecond)
	}
	// Idle past 400 ms, then a key: one event.
	time.Sleep(after + 300*time.Millisecond) // the idleness the test needs, not a wait for an event
	input(t)
	expect("a key after idleness", true, 5*time.Second)
	input(t)
	expect("a key right after", false, 150*time.Millisecond)
	cancel()
	for range ch {
	}
}
