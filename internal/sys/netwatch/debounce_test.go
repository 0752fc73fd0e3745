//go:build linux

package netwatch

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestDebounce, in virtual time: a burst of events is one call, quiet
// after its last event; the next call keeps minGap after the one before;
// the end of the events ends it with their error.
func TestDebounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quiet, minGap = 200 * time.Millisecond, 2 * time.Second
		start := time.Now()
		var calls []time.Duration
		events, readErr := make(chan struct{}, 1), make(chan error, 1)
		done := make(chan error, 1)
		go func() {
			done <- debounce(context.Background(), events, readErr, quiet, minGap, func() { calls = append(calls, time.Since(start)) })
		}()
		at := func(d time.Duration) {
			time.Sleep(d - time.Since(start))
			events <- struct{}{}
		}
		at(0)
		at(100 * time.Millisecond)
		at(250 * time.Millisecond) // the burst ends here: one call at 450 ms
		at(time.Second)            // within minGap of that call: at 2.45 s
		at(5 * time.Second)        // alone: at 5.2 s
		time.Sleep(10 * time.Second)
		synctest.Wait()
		want := []time.Duration{450 * time.Millisecond, 2450 * time.Millisecond, 5200 * time.Millisecond}
		if !slices.Equal(calls, want) {
			t.Errorf("calls at %v, want %v", calls, want)
		}
		gone := errors.New("netlink closed")
		readErr <- gone
		if err := <-done; err != gone {
			t.Errorf("debounce returned %v, want the read error", err)
		}
	})
}
