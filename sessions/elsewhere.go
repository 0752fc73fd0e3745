package sessions

import (
	"context"
	"strconv"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/claims"
)

// This file is the display sessions' side of the claims (see package
// claims): a
// session claims its display before its client starts, and when its
// client ends it asks the claims whether another location took the
// display; if so the session is "elsewhere" (not a failure: no restart, no
// backoff, its restart count does not move) until Take brings it back. It
// does not depend on how the session's client runs: only on the display
// number and the claim watcher of the connection.

// SetClaims turns the claims on (c.Location set) or off for the link's
// display sessions; it applies from the next connection, and TakeAlways
// to sessions that start from now on.
func (l *Link) SetClaims(c claims.Config) {
	if c.Location != "" && c.AgentID == "" {
		c.AgentID = claims.NewAgentID()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claims = c
}

// Take brings display sessions here: those named (all display sessions
// when names is empty) that are elsewhere, waiting to restart, or still
// attached to a display another location has just taken (its client has
// not ended yet) take their display now. With minAge > 0 (follow), a
// display that another location took less than minAge ago stays there.
// Sessions that are here are left alone. It returns the sessions asked.
func (l *Link) Take(names []string, minAge time.Duration) []string {
	l.mu.Lock()
	conn := l.conn
	l.mu.Unlock()
	var snap *claims.Snapshot
	if conn != nil && conn.claims != nil {
		ctx, cancel := context.WithTimeout(context.Background(), l.DeadAfter())
		snap, _ = conn.claims.Request(ctx, "tick")
		cancel()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var moved []string
	for _, s := range l.sessions {
		d, ok := claims.DisplayOf(s.spec.Name)
		if !ok || (len(names) > 0 && !contains(names, s.spec.Name)) {
			continue
		}
		wake := s.kick
		switch s.status.State {
		case api.SessionElsewhere, api.SessionBackoff, api.SessionFailed:
		default:
			if snap == nil {
				continue
			}
			if claims.Decide(snap, claims.Facts{Display: d, Agent: conn.claims.ID()}).Where != claims.AtLocation {
				continue // here
			}
			wake = s.drop // its client was displaced: no need to wait for it
		}
		s.take, s.takeMinAge = true, minAge
		moved = append(moved, s.spec.Name)
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	return moved
}

// showElsewhere shows the session elsewhere, held by heldBy (since now,
// unless it already was).
func (s *session) showElsewhere(heldBy string) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if s.status.State != api.SessionElsewhere || s.status.HeldBy != heldBy {
		s.status.Since = time.Now()
		s.status.State, s.status.HeldBy, s.status.LastError = api.SessionElsewhere, heldBy, ""
		s.l.notifyLocked()
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// claimHere decides, on a live connection, whether the session may start
// its client: it returns false once the session went elsewhere and came
// back (the caller loops), true when the display is claimed for this agent
// (or claims are off). ok is false when ctx ended.
func (s *session) claimHere(ctx context.Context, conn *liveConn) (attach, ok bool) {
	d, isDisplay := claims.DisplayOf(s.spec.Name)
	if !isDisplay || conn.claims == nil {
		return true, true
	}
	s.l.mu.Lock()
	take, minAge := s.take, s.takeMinAge
	// Not taking, it looks for another client too where one may hold the
	// display: at its first start (if-free), or after one took it.
	look := !take && (s.otherClient || !s.ran)
	s.l.mu.Unlock()
	if !take || minAge > 0 { // a plain take needs no look first
		cmd := "tick"
		if look {
			cmd = "look " + strconv.Itoa(d)
		}
		snap, err := conn.claims.Request(ctx, cmd)
		if err != nil {
			return true, ctx.Err() == nil // the link is going: runOnce sees it
		}
		switch p := claims.Decide(snap, claims.Facts{Display: d, Agent: conn.claims.ID(), Take: take, MinAge: minAge}); p.Where {
		case claims.AtLocation:
			s.l.mu.Lock()
			s.take = false
			s.l.mu.Unlock()
			return false, s.elsewhere(ctx, conn, d, p.Location)
		case claims.OtherClient:
			return false, s.heldByClient(ctx, conn, d)
		}
	}
	if _, err := conn.claims.Request(ctx, "take "+strconv.Itoa(d)); err != nil {
		return true, ctx.Err() == nil
	}
	s.l.mu.Lock()
	s.take, s.takeMinAge = false, 0
	s.ran, s.otherClient = true, false
	s.l.mu.Unlock()
	return true, true
}

// displaced tells, after the session's client ended on its own, whether
// another location took the display or, without a live claim explaining
// it, another xpra client now holds it (a look through the claim watcher);
// if so the session waits elsewhere (ok false when ctx ended meanwhile).
func (s *session) displaced(ctx context.Context, conn *liveConn) (moved, ok bool) {
	d, isDisplay := claims.DisplayOf(s.spec.Name)
	if !isDisplay || conn.claims == nil {
		return false, true
	}
	// The claims first (no xpra info when a location explains it), then,
	// only when none does, the display's clients.
	facts := claims.Facts{Display: d, Agent: conn.claims.ID()}
	snap, err := conn.claims.Request(ctx, "tick")
	if err != nil {
		return false, true
	}
	p := claims.Decide(snap, facts)
	if p.Where != claims.AtLocation {
		if snap, err = conn.claims.Request(ctx, "look "+strconv.Itoa(d)); err != nil {
			return false, true
		}
		if p = claims.Decide(snap, facts); p.Where == claims.Free {
			return false, true // a failure
		}
	}
	byClient := p.Where == claims.OtherClient
	s.l.mu.Lock()
	take := s.take
	s.l.mu.Unlock()
	if take {
		return true, true // asked back meanwhile: the caller claims it again
	}
	if byClient {
		s.l.log.Info("display taken by another xpra client", "session", s.spec.Name)
		return true, s.heldByClient(ctx, conn, d)
	}
	s.l.log.Info("display taken by another location", "session", s.spec.Name, "held_by", p.Location)
	return true, s.elsewhere(ctx, conn, d, p.Location)
}

// elsewhere shows the session held by location and waits: for a Take (or
// a restart asked for), for the holder's lease to end (the display is free
// again), or for the connection to go (the next one reads the claims
// again). It returns false when ctx ended.
func (s *session) elsewhere(ctx context.Context, conn *liveConn, d int, location string) bool {
	shown := ""
	for {
		shown = location
		s.showElsewhere(location)
		updated, snap := conn.claims.Watch()
		if snap != nil {
			p := claims.Decide(snap, claims.Facts{Display: d, Agent: conn.claims.ID()})
			if p.Where != claims.AtLocation {
				s.l.log.Info("the display is free again", "session", s.spec.Name, "was_at", location)
				return true
			}
			if location = p.Location; location != shown {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-s.kick:
			return true
		case <-conn.dead:
			return true
		case <-updated:
		}
	}
}
