package testbed

import (
	"sync"
	"testing"
	"time"
)

// Shared is a server a package's tests share: the first test that needs
// it starts it, TestMain closes it. A server that cannot start is
// Unavailable (fatal under CI) and its tests skip.
type Shared[T interface{ Close() }] struct {
	What  string // for the banner: "nested mutter"
	Start func() (T, error)

	once sync.Once
	v    T
	err  error
	ok   bool
}

// Get returns the server, starting it on first use; t skips when it
// cannot start.
func (s *Shared[T]) Get(t testing.TB) T {
	t.Helper()
	s.once.Do(func() {
		if s.v, s.err = s.Start(); s.err != nil {
			Unavailable(s.What, s.err)
			return
		}
		s.ok = true
	})
	if s.err != nil {
		t.Skipf("no %s: %v", s.What, s.err)
	}
	return s.v
}

// Close closes the server if a test started it.
func (s *Shared[T]) Close() {
	if s.ok {
		s.v.Close()
	}
}

// Recv waits up to within for what ch yields (what: for the failure), so
// that a test waiting on the code under test ends with a clear failure,
// not the go test timeout.
func Recv[T any](t testing.TB, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("%s: nothing within %s", what, within)
		var zero T
		return zero
	}
}
