package sessions

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a jittered exponential backoff: about Base, doubling to Max,
// each delay scaled by a random factor in [0.75, 1.25). It is not safe for
// concurrent use; each supervisor owns one.
type Backoff struct {
	Base, Max time.Duration
	attempt   int
	rand      func() float64 // [0,1); tests make it fixed
}

// NewBackoff returns the session and link backoff: 0.5 s doubling to 30 s.
func NewBackoff() *Backoff {
	return &Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second}
}

// Next returns the next delay and counts one more failure.
func (b *Backoff) Next() time.Duration {
	d := b.Base << min(b.attempt, 16)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	b.attempt++
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return time.Duration(float64(d) * (0.75 + 0.5*r()))
}

// Reset starts again from Base (after a healthy run).
func (b *Backoff) Reset() { b.attempt = 0 }

// Attempts is the number of delays handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// sleep waits d or until ctx ends or kick fires; it reports whether the
// wait ended without ctx ending.
func sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-kick:
		return true
	}
}
