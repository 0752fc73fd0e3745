package claims

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/perchdesk/perch/api"
)

// Session is one display session's side of the claims. Before its client
// starts, Here claims the display (or finds it elsewhere); when its client
// ends on its own, Displaced tells whether another location or another
// xpra client took the display. Either way the session then waits,
// showing where the display is (not a failure: no restart, no backoff),
// until the display is free again, Ask brings it back, the session is
// woken, or the connection goes. It does not depend on how the session's
// client runs: only on the display and the connection's Watcher.
//
// Its flags have one writer each: Ask (whoever asks the display back)
// sets take, and the session's own goroutine, in Here and Displaced,
// clears it and keeps the rest.
type Session struct {
	display int
	name    string
	show    func(heldBy string)
	log     *slog.Logger

	mu     sync.Mutex
	take   bool          // the next start takes the display from wherever it is...
	minAge time.Duration // ...unless another location took it less than minAge ago
	ran    bool          // the display was claimed for a client of this agent once
	other  bool          // another xpra client took it since
}

// NewSession is the claims' side of the session named name for display
// d; take: its first start takes the display (take = "always"). show
// shows the session elsewhere, held by a location or api.AnotherClient.
func NewSession(d int, name string, take bool, show func(heldBy string), log *slog.Logger) *Session {
	return &Session{display: d, name: name, take: take, show: show, log: log}
}

// Ask makes the next start take the display from wherever it is, unless
// (minAge > 0: follow) another location took it less than minAge ago.
func (s *Session) Ask(minAge time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.take, s.minAge = true, minAge
}

// Conn is the connection the session runs on, as the claims see it.
type Conn struct {
	W    *Watcher        // nil: claims are off, the display is taken as xpra does
	Gone <-chan struct{} // closed when the connection goes
	Wake <-chan struct{} // the session is asked to start (a restart)
}

// Here decides, on a live connection, whether the session may start its
// client: attach is false once the session waited elsewhere and came
// back (the caller asks again), true when the display is claimed for
// this agent (or claims are off). ok is false when ctx ended.
func (s *Session) Here(ctx context.Context, c Conn) (attach, ok bool) {
	if c.W == nil {
		return true, true
	}
	s.mu.Lock()
	take, minAge := s.take, s.minAge
	// Not taking, it looks for another client too where one may hold the
	// display: at its first start (if-free), or after one took it.
	look := !take && (s.other || !s.ran)
	s.mu.Unlock()
	if !take || minAge > 0 { // a plain take needs no look first
		cmd := "tick"
		if look {
			cmd = "look " + strconv.Itoa(s.display)
		}
		snap, err := c.W.Request(ctx, cmd)
		if err != nil {
			return true, ctx.Err() == nil // the link is going: the run sees it
		}
		switch p := Decide(snap, Facts{Display: s.display, Agent: c.W.ID(), Take: take, MinAge: minAge}); p.Where {
		case AtLocation:
			s.mu.Lock()
			s.take = false
			s.mu.Unlock()
			return false, s.atLocation(ctx, c, p.Location)
		case OtherClient:
			return false, s.heldByClient(ctx, c)
		}
	}
	if _, err := c.W.Request(ctx, "take "+strconv.Itoa(s.display)); err != nil {
		return true, ctx.Err() == nil
	}
	s.mu.Lock()
	s.take, s.minAge = false, 0
	s.ran, s.other = true, false
	s.mu.Unlock()
	return true, true
}

// Displaced tells, after the session's client ended on its own, whether
// another location took the display or, without a live claim explaining
// it, another xpra client now holds it (a look through the watcher); if
// so the session waits elsewhere (ok false when ctx ended meanwhile).
func (s *Session) Displaced(ctx context.Context, c Conn) (moved, ok bool) {
	if c.W == nil {
		return false, true
	}
	// The claims first (no xpra info when a location explains it), then,
	// only when none does, the display's clients.
	facts := Facts{Display: s.display, Agent: c.W.ID()}
	snap, err := c.W.Request(ctx, "tick")
	if err != nil {
		return false, true
	}
	p := Decide(snap, facts)
	if p.Where != AtLocation {
		if snap, err = c.W.Request(ctx, "look "+strconv.Itoa(s.display)); err != nil {
			return false, true
		}
		if p = Decide(snap, facts); p.Where == Free {
			return false, true // a failure
		}
	}
	s.mu.Lock()
	take := s.take
	s.mu.Unlock()
	if take {
		return true, true // asked back meanwhile: the caller claims it again
	}
	if p.Where == OtherClient {
		s.log.Info("display taken by another xpra client", "session", s.name)
		return true, s.heldByClient(ctx, c)
	}
	s.log.Info("display taken by another location", "session", s.name, "held_by", p.Location)
	return true, s.atLocation(ctx, c, p.Location)
}

// atLocation shows the session held by location and waits: for a wake,
// for the holder's lease to end (the display is free again), or for the
// connection to go (the next one reads the claims again). It returns
// false when ctx ended.
func (s *Session) atLocation(ctx context.Context, c Conn, location string) bool {
	for {
		shown := location
		s.show(location)
		updated, snap := c.W.Watch()
		if snap != nil {
			p := Decide(snap, Facts{Display: s.display, Agent: c.W.ID()})
			if p.Where != AtLocation {
				s.log.Info("the display is free again", "session", s.name, "was_at", location)
				return true
			}
			if location = p.Location; location != shown {
				continue
			}
		}
		if again, ok := wait(ctx, c, updated); !again {
			return ok
		}
	}
}

// heldByClient shows the session held by another client, and has the
// watcher ask the display's server at each keepalive (never more often)
// how many clients it has. It returns true when that client is gone (the
// display is free: as when a location's lease runs out, the session
// attaches again), on a wake, or when the connection goes; if a perch
// location takes the display meanwhile, it waits as atLocation does. It
// returns false when ctx ended.
func (s *Session) heldByClient(ctx context.Context, c Conn) bool {
	s.mu.Lock()
	s.other = true
	s.mu.Unlock()
	c.W.LookAt(s.display, true)
	defer c.W.LookAt(s.display, false)
	s.show(api.AnotherClient)
	for {
		updated, snap := c.W.Watch()
		if snap != nil {
			p := Decide(snap, Facts{Display: s.display, Agent: c.W.ID()})
			if p.Where == AtLocation {
				return s.atLocation(ctx, c, p.Location)
			}
			if _, looked := snap.XClients[s.display]; looked && p.Where == Free {
				s.log.Info("the other client left the display", "session", s.name)
				s.mu.Lock()
				s.other = false
				s.mu.Unlock()
				return true
			}
		}
		if again, ok := wait(ctx, c, updated); !again {
			return ok
		}
	}
}

// wait waits for the claims to be updated (again: look at them again),
// for a wake or the connection's end (again false, ok true), or for ctx
// (both false).
func wait(ctx context.Context, c Conn, updated <-chan struct{}) (again, ok bool) {
	select {
	case <-ctx.Done():
		return false, false
	case <-c.Wake:
		return false, true
	case <-c.Gone:
		return false, true
	case <-updated:
		return true, true
	}
}
