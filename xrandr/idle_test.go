package xrandr_test

import (
	"context"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/keys"
	"github.com/perchdesk/perch/xrandr"
)

// keyboard presses keys on the bed's display through XTEST.
func keyboard(t *testing.T) *keys.Keyboard {
	t.Helper()
	kb, err := keys.Open(bed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kb.Close)
	return kb
}

// TestWatchActivity: input after the idle time is one event; input while
// the user is active is none. The idle time is the X server's own count:
// a machine so loaded that it stalls past the idle time between two keys
// makes that key a legitimate event, and the test allows for it (and
// only then).
func TestWatchActivity(t *testing.T) {
	dial(t) // skips without the bed
	kb := keyboard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const after = time.Second
	// Idle past the threshold before the watch starts: the first key counts.
	if err := kb.WaitIdle(ctx, after); err != nil {
		t.Fatal(err)
	}
	ch, err := xrandr.WatchActivity(ctx, bed.Name, after)
	if err != nil {
		t.Fatal(err)
	}
	stalled := false // an idle gap of after/2 or more came before a key
	press := func() {
		t.Helper()
		idle, err := kb.Idle()
		if err != nil {
			t.Fatal(err)
		}
		if idle >= after/2 {
			stalled = true
		}
		if err := kb.Press(); err != nil {
			t.Fatal(err)
		}
	}
	event := func(what string) {
		t.Helper()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s: no activity event", what)
		}
	}
	none := func(what string, within time.Duration) {
		t.Helper()
		select {
		case <-ch:
			if !stalled {
				t.Fatalf("%s: an activity event, want none", what)
			}
			t.Logf("%s: an event after the machine stalled %s or more between keys", what, after/2)
		case <-time.After(within):
		}
	}
	press()
	event("the first key after idleness")
	stalled = false
	// Busy: keys every 100 ms never leave a second of idleness.
	for range 8 {
		press()
		none("keys every 100 ms", 100*time.Millisecond)
	}
	// Idle past the threshold, then a key: one event.
	if err := kb.WaitIdle(ctx, after+300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	press()
	event("a key after idleness")
	stalled = false
	press()
	none("a key right after", 150*time.Millisecond)
	cancel()
	for range ch {
	}
}
