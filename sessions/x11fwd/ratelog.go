package x11fwd

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog lets one warning through per period and counts the others,
// which a line at the end of the period sums up: a flood of forged X11
// connections must not fill the log (30 000 in 10 s wrote 6.4 MB).
type rateLog struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time // when a line was last written
	suppressed int       // warnings held back since
	msg        string    // the last one held back
	log        *slog.Logger
}

// warn logs msg with err, or counts it when a line was written less than
// every ago.
func (r *rateLog) warn(log *slog.Logger, msg string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.last.IsZero() || now.Sub(r.last) >= r.every {
		r.last = now
		log.Warn(msg, "err", err)
		return
	}
	if r.suppressed == 0 {
		time.AfterFunc(r.every-now.Sub(r.last), r.flush)
	}
	r.suppressed++
	r.msg, r.log = msg, log
}

// flush sums up the warnings held back in the period that ended.
func (r *rateLog) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.suppressed == 0 {
		return
	}
	r.log.Warn(r.msg, "more", r.suppressed, "within", r.every)
	r.suppressed, r.last = 0, time.Now()
}
