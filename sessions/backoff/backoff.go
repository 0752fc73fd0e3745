// Package backoff decides how long a link or a session waits before it
// asks the server again: a jittered exponential backoff for failures,
// short waits for a server that is away or shed load, and the spread of a
// room's clients coming back together (Kind tells which a failure is).
package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// The short waits: a failure that costs the server nothing, or load it
// shed, is retried within seconds, whatever the backoff reached.
const (
	// DownMax caps the wait after a connect the server's host refused or
	// that found no route: a refused TCP connect costs the server nothing,
	// and a server that comes back is found within DownMax.
	DownMax = 2 * time.Second
	// LoadMin and LoadMax bound the wait after the server shed load
	// (sshd's MaxStartups, a connection closed before the banner).
	LoadMin, LoadMax = 100 * time.Millisecond, 2 * time.Second
)

// Backoff is a jittered exponential backoff: about Base, doubling to Max,
// each delay scaled by a random factor in [0.75, 1.25). Beside it run the
// short waits (Down, Load) and the spread of a herd (Spread). It is not
// safe for concurrent use; each supervisor owns one.
type Backoff struct {
	Base, Max time.Duration
	// Rand is the random source in [0,1); nil: math/rand/v2. Tests make
	// it fixed or Seeded.
	Rand    func() float64
	attempt int
	down    int // Down waits since the last Reset
}

// New returns the session and link backoff: 0.5 s doubling to 30 s.
func New() *Backoff {
	return &Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second}
}

// Seeded returns a reproducible random source for Rand, safe for
// concurrent use.
func Seeded(seed uint64) func() float64 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

func (b *Backoff) random() float64 {
	if b.Rand != nil {
		return b.Rand()
	}
	return rand.Float64()
}

// Next returns the next delay and counts one more failure.
func (b *Backoff) Next() time.Duration {
	d := b.Base << min(b.attempt, 16)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	b.attempt++
	return time.Duration(float64(d) * (0.75 + 0.5*b.random()))
}

// Down returns the wait after a connect refused by the server's host or
// with no route to it: Base doubling to DownMax, at a random point of its
// upper half. It does not grow the failure backoff.
func (b *Backoff) Down() time.Duration {
	d := min(b.Base<<min(b.down, 16), DownMax)
	b.down++
	return time.Duration(float64(d) * (0.5 + 0.5*b.random()))
}

// Load returns the wait after the server shed load: a random point of
// [LoadMin, LoadMax). The backoff does not grow: the server is there and
// answers the next attempt but one.
func (b *Backoff) Load() time.Duration {
	return LoadMin + time.Duration(float64(LoadMax-LoadMin)*b.random())
}

// After returns the wait after a failed connect of kind k: Down, Load,
// or Next.
func (b *Backoff) After(k Kind) time.Duration {
	switch k {
	case Down:
		return b.Down()
	case Load:
		return b.Load()
	}
	return b.Next()
}

// Spread returns a random point of [0, 2×Base) (full jitter): the wait
// before the first attempt after a healthy run ended, so that the clients
// that lost one server together come back spread over the window, not
// in one burst. It counts nothing.
func (b *Backoff) Spread() time.Duration {
	return time.Duration(float64(2*b.Base) * b.random())
}

// Retry returns the wait after a failure: Spread for the first since the
// last Reset, then Next. It counts one more failure.
func (b *Backoff) Retry() time.Duration {
	if b.attempt == 0 {
		b.attempt++
		return b.Spread()
	}
	return b.Next()
}

// Reset starts again from Base (after a healthy run).
func (b *Backoff) Reset() { b.attempt, b.down = 0, 0 }

// Attempts is the number of delays handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Sleep waits d or until ctx ends or kick fires; it reports whether the
// wait ended without ctx ending.
func Sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) bool {
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
