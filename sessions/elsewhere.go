package sessions

import (
	"context"
	"slices"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/claims"
)

// The link's side of the claims: it turns them on, and Take asks display
// sessions back. Each display session has its claims.Session, which
// claims the display before the session's client starts and waits while
// it is elsewhere (claims.Session.Here and Displaced).

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
		if !ok || (len(names) > 0 && !slices.Contains(names, s.spec.Name)) {
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
		s.claim.Ask(minAge)
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
