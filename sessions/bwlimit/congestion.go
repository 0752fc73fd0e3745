package bwlimit

import "time"

const (
	bwTick     = time.Second
	bwSpan     = 3                      // full ticks in a row that make the link full
	bwMeasure  = 3                      // further full ticks over which what it carries is measured
	bwQueued   = 400 * time.Millisecond // a round trip this much over the best: replies queue
	bwCooldown = 15 * time.Second       // after a change, before the next judgement
	bwShare    = 0.8                    // of what the link carried
	bwFloor    = 1 << 20                // bits/s: xpra's MIN_BANDWIDTH_LIMIT
	bwBusy     = 256 << 10              // bits/s from the server that make a tick busy
	// bwWindow: a best round trip older than this gives way to the next
	// one answered, so that a path that became slower for good is not
	// taken for a full link more than twice.
	bwWindow = 30 * time.Second
)

// congestion decides, one tick at a time, whether the link is full and
// what the local clients' limit should be. It is pure: the watcher feeds
// it what it measured.
type congestion struct {
	best     time.Duration // the best round trip of the window; 0: none yet
	bestAge  int           // ticks since best was answered
	full     int           // busy ticks in a row with queued replies
	carried  int64         // bits received in the measuring ticks
	cooldown int           // ticks left before the next judgement
	limit    int64         // the current limit, bits/s; 0: none
}

// tick takes one tick's figures: bits received from the server (per
// bwTick), and the round trip of the last keepalive (done) or the age of
// the one still unanswered (!done; 0: none sent). It returns the new limit and true when
// the limit should change, and what the link carried then.
func (c *congestion) tick(bits int64, rtt time.Duration, done bool) (limit, carried int64, change bool) {
	c.bestAge++
	if done && rtt > 0 && (c.best == 0 || rtt <= c.best || c.bestAge >= int(bwWindow/bwTick)) {
		c.best, c.bestAge = rtt, 0
	}
	if c.cooldown > 0 {
		c.cooldown--
		c.full, c.carried = 0, 0
		return c.limit, 0, false
	}
	busy := bits >= int64(bwBusy*bwTick.Seconds())
	if !busy || c.best == 0 || rtt <= c.best+bwQueued {
		c.full, c.carried = 0, 0
		return c.limit, 0, false
	}
	c.full++
	// What it carries is measured once it is full, over bwMeasure more
	// seconds: the first ones may still deliver bytes from before the link
	// became slower (from this machine's own socket buffers), or less
	// than it can while TCP recovers from the losses.
	if c.full > bwSpan {
		c.carried += bits
	}
	if c.full < bwSpan+bwMeasure {
		return c.limit, 0, false
	}
	rate := int64(float64(c.carried) / (bwMeasure * bwTick.Seconds()))
	c.full, c.carried = 0, 0
	c.cooldown = int(bwCooldown / bwTick)
	next := For(rate)
	if c.limit != 0 && float64(next) >= 0.9*float64(c.limit) {
		return c.limit, rate, false
	}
	c.limit = next
	return next, rate, true
}

// wantsRTT reports whether the watcher should time a keepalive now: on a
// busy tick, and on quiet ones when the best round trip is half a window
// old, so that the best is fresh when the link gets busy.
func (c *congestion) wantsRTT(bits int64) bool {
	return bits >= int64(bwBusy*bwTick.Seconds()) || c.best == 0 || c.bestAge >= int(bwWindow/bwTick)/2
}

// For is the limit set for a link that carried carried bits/s: bwShare
// of it, never below xpra's floor.
func For(carried int64) int64 {
	return max(int64(bwFloor), int64(float64(carried)*bwShare))
}
