package bwlimit

import (
	"context"
	"log/slog"
	"time"
)

// Watch is one connection's watcher.
type Watch struct {
	FirstRTT time.Duration   // a first best round trip (the TCP connect's)
	Dead     <-chan struct{} // closed when the connection is gone
	Received func() int64    // bytes the server sent so far
	// Ping sends one keepalive and returns its round trip.
	Ping func() (time.Duration, error)
	// Auto reports whether a session of the link is a local one whose
	// limit perch sets.
	Auto  func() bool
	Limit *Limit
	// Changed is called after the watcher set a new limit.
	Changed func()
	Log     *slog.Logger
}

// Run watches until ctx ends or the connection dies. It times keepalives
// only on busy seconds of a link with local sessions: an idle link costs
// nothing.
func (w Watch) Run(ctx context.Context) {
	c := congestion{best: w.FirstRTT}
	ticker := time.NewTicker(bwTick)
	defer ticker.Stop()
	replies := make(chan time.Duration, 1)
	var sent time.Time         // of the keepalive not yet answered; zero: none
	var answered time.Duration // the round trip answered since the last tick; 0: none
	last, lastAt := w.Received(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Dead:
			return
		case r := <-replies:
			sent, answered = time.Time{}, max(answered, r)
			continue
		case <-ticker.C:
		}
		now, at := w.Received(), time.Now()
		// Per bwTick, however late the tick came.
		bits := int64(float64((now-last)*8) * bwTick.Seconds() / max(at.Sub(lastAt), time.Millisecond).Seconds())
		last, lastAt = now, at
		// The tick's round trip: the one answered since the last tick,
		// or the wait of the one still out, if longer.
		rtt, done := answered, answered > 0
		if !sent.IsZero() {
			rtt = max(rtt, time.Since(sent))
		}
		answered = 0
		if !w.Auto() {
			continue
		}
		c.limit, _ = w.Limit.Status() // Forget may have dropped it
		if sent.IsZero() && c.wantsRTT(bits) {
			sent = time.Now()
			go w.ping(replies)
		}
		if limit, carried, change := c.tick(bits, rtt, done); change {
			w.Log.Info("the link is full: local xpra clients restart with a bandwidth limit",
				"carried", Mbit(carried), "limit", Mbit(limit), "best_rtt", c.best.Round(time.Millisecond), "rtt", rtt.Round(time.Millisecond))
			w.Limit.Set(limit, carried)
			w.Changed()
		}
	}
}

// ping times one keepalive for Run; an unanswered one is never reported.
func (w Watch) ping(replies chan<- time.Duration) {
	if rtt, err := w.Ping(); err == nil {
		select {
		case replies <- rtt:
		default:
		}
	}
}
