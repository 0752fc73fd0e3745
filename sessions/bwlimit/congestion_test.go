package bwlimit

import (
	"slices"
	"testing"
	"time"
)

// TestCongestion: the detector finds the link full after bwSpan busy
// seconds of queued replies, measures what it carries over bwMeasure more
// and sets a limit at bwShare of that; it waits out the
// cooldown, lowers again only by more than a tenth, never goes below the
// floor, and ignores idle or unqueued seconds.
func TestCongestion(t *testing.T) {
	const mbit = 1_000_000
	type tick struct {
		bits int64
		rtt  time.Duration
		done bool
	}
	busy := func(bits int64, rtt time.Duration) tick { return tick{bits, rtt, false} }
	answered := func(bits int64, rtt time.Duration) tick { return tick{bits, rtt, true} }
	repeat := func(n int, tk tick) []tick {
		var ts []tick
		for range n {
			ts = append(ts, tk)
		}
		return ts
	}
	cool := int(bwCooldown / bwTick)
	for _, tc := range []struct {
		name    string
		best    time.Duration
		limit   int64
		ticks   []tick
		changes []int64 // the limits set, in order
	}{
		{"full for six seconds", time.Millisecond, 0, repeat(6, busy(5*mbit, 2*time.Second)), []int64{4 * mbit}},
		{"full for five seconds", time.Millisecond, 0, repeat(5, busy(5*mbit, 2*time.Second)), nil},
		{"measured once full (the first seconds deceive)", time.Millisecond, 0,
			[]tick{busy(30*mbit, 2*time.Second), busy(2*mbit, 2*time.Second), busy(3*mbit, 2*time.Second),
				busy(4*mbit, 2*time.Second), busy(5*mbit, 2*time.Second), busy(6*mbit, 2*time.Second)}, []int64{4 * mbit}},
		{"a quiet second breaks the run", time.Millisecond, 0,
			slices.Concat(repeat(5, busy(5*mbit, 2*time.Second)), []tick{{0, 2 * time.Second, false}}, repeat(5, busy(5*mbit, 2*time.Second))), nil},
		{"busy but replies on time", time.Millisecond, 0, repeat(20, busy(50*mbit, 300*time.Millisecond)), nil},
		{"a slow link's best round trip is its own", 600 * time.Millisecond, 0, repeat(20, busy(5*mbit, 900*time.Millisecond)), nil},
		{"queued but idle (another channel's wait)", time.Millisecond, 0, repeat(20, tick{100_000, 3 * time.Second, false}), nil},
		{"no round trip known yet", 0, 0, repeat(20, busy(5*mbit, 3*time.Second)), nil},
		{"the best comes from an answered keepalive", 0, 0,
			append([]tick{{5 * mbit, 2 * time.Millisecond, true}}, repeat(6, busy(5*mbit, 2*time.Second))...), []int64{4 * mbit}},
		{"still full after the cooldown: lower", time.Millisecond, 0,
			slices.Concat(repeat(6, busy(5*mbit, 2*time.Second)), repeat(cool, busy(5*mbit, 2*time.Second)), repeat(6, busy(2*mbit, 2*time.Second))),
			[]int64{4 * mbit, 1.6 * mbit}},
		{"full during the cooldown: nothing", time.Millisecond, 0,
			slices.Concat(repeat(6, busy(5*mbit, 2*time.Second)), repeat(cool, busy(1*mbit, 2*time.Second))), []int64{4 * mbit}},
		{"not a tenth lower: kept", time.Millisecond, 4 * mbit, repeat(6, busy(4.6*mbit, 2*time.Second)), nil},
		{"a path slower for good: two limits at most", time.Millisecond, 0,
			slices.Concat(repeat(6, answered(5*mbit, 700*time.Millisecond)), repeat(cool, answered(4*mbit, 700*time.Millisecond)),
				repeat(6, answered(4*mbit, 700*time.Millisecond)), repeat(cool, answered(3.2*mbit, 700*time.Millisecond)),
				repeat(60, answered(3.2*mbit, 700*time.Millisecond))),
			[]int64{4 * mbit, 3.2 * mbit}},
		{"the floor", time.Millisecond, 0, repeat(6, busy(400_000, 2*time.Second)), []int64{bwFloor}},
		{"at the floor: no more", time.Millisecond, bwFloor, repeat(6+cool+6, busy(400_000, 2*time.Second)), nil},
	} {
		c := congestion{best: tc.best, limit: tc.limit}
		var got []int64
		for i, tk := range tc.ticks {
			limit, carried, change := c.tick(tk.bits, tk.rtt, tk.done)
			if change {
				got = append(got, limit)
				if carried <= 0 || (limit > carried && limit != bwFloor) {
					t.Errorf("%s: tick %d: limit %d for %d carried", tc.name, i, limit, carried)
				}
			}
		}
		if !slices.Equal(got, tc.changes) {
			t.Errorf("%s: limits set %v, want %v", tc.name, got, tc.changes)
		}
	}
}

// TestWantsRTT: the watcher times a keepalive on busy ticks, and on quiet
// ones only to keep the best round trip fresh (half a window old).
func TestWantsRTT(t *testing.T) {
	half := int(bwWindow/bwTick) / 2
	for _, tc := range []struct {
		best time.Duration
		age  int
		bits int64
		want bool
	}{
		{time.Millisecond, 1, 10 << 20, true},
		{time.Millisecond, 1, 1000, false},
		{time.Millisecond, half - 1, 0, false},
		{time.Millisecond, half, 0, true},
		{0, 0, 0, true},
	} {
		c := congestion{best: tc.best, bestAge: tc.age}
		if got := c.wantsRTT(tc.bits); got != tc.want {
			t.Errorf("best %s, %d ticks old, %d bits: %v, want %v", tc.best, tc.age, tc.bits, got, tc.want)
		}
	}
}

// TestArgs: a limit is one option; none, none.
func TestArgs(t *testing.T) {
	if got := Args(0); got != nil {
		t.Errorf("no limit: %q", got)
	}
	if got := Args(3_800_000); !slices.Equal(got, []string{"--bandwidth-limit=3800000"}) {
		t.Errorf("limit: %q", got)
	}
}
