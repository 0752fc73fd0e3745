package ui

import (
	"bytes"
	"strings"
	"sync"
)

// LogRing keeps the last lines written to it, for the status window. It is
// an io.Writer: give it to a slog handler (beside stderr, with
// io.MultiWriter). It is safe for concurrent use.
type LogRing struct {
	max     int
	changes chan struct{}

	mu      sync.Mutex
	lines   []string
	partial []byte
}

// NewLogRing keeps the last max lines (100 when max <= 0).
func NewLogRing(max int) *LogRing {
	if max <= 0 {
		max = 100
	}
	return &LogRing{max: max, changes: make(chan struct{}, 1)}
}

// Write adds complete lines; a trailing partial line waits for its end.
func (r *LogRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.partial = append(r.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.lines = append(r.lines, strings.TrimRight(string(r.partial[:i]), "\r"))
		r.partial = r.partial[i+1:]
		added = true
	}
	if n := len(r.lines) - r.max; n > 0 {
		r.lines = append(r.lines[:0:0], r.lines[n:]...)
	}
	if len(r.partial) == 0 {
		r.partial = nil
	}
	r.mu.Unlock()
	if added {
		signal(r.changes)
	}
	return len(p), nil
}

// Lines returns a copy of the lines kept, oldest first.
func (r *LogRing) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// Changes signals, coalesced, that lines were added.
func (r *LogRing) Changes() <-chan struct{} { return r.changes }
