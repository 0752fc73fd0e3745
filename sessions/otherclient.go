package sessions

import (
	"context"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/claims"
)

// heldByClient shows the session elsewhere, held by another client, and
// asks the display's server at each keepalive (never more often) how many
// clients it has. It returns true when that client is gone (the display is
// free: as when a location's lease runs out, the session attaches again),
// on a Take or a restart asked for, or when the connection goes; if a perch
// location takes the display meanwhile, it waits as elsewhere does. It
// returns false when ctx ended.
func (s *session) heldByClient(ctx context.Context, conn *liveConn, d int) bool {
	s.l.mu.Lock()
	s.otherClient = true
	s.l.mu.Unlock()
	conn.claims.LookAt(d, true)
	defer conn.claims.LookAt(d, false)
	s.showElsewhere(api.AnotherClient)
	for {
		updated, snap := conn.claims.Watch()
		if snap != nil {
			p := claims.Decide(snap, claims.Facts{Display: d, Agent: conn.claims.ID()})
			if p.Where == claims.AtLocation {
				return s.elsewhere(ctx, conn, d, p.Location)
			}
			if _, looked := snap.XClients[d]; looked && p.Where == claims.Free {
				s.l.log.Info("the other client left the display", "session", s.spec.Name)
				s.l.mu.Lock()
				s.otherClient = false
				s.l.mu.Unlock()
				return true
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
