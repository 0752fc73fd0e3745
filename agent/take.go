package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/perchdesk/perch/sessions"
)

// Take brings display sessions here from the location that holds them:
// those named, or all of the running profile's displays when none is. An
// unknown name is refused before anything moves.
func (a *Agent) Take(ctx context.Context, names []string) error {
	return a.do(ctx, func(ctx context.Context) error {
		a.mu.Lock()
		lr, profile := a.link, a.profile
		a.mu.Unlock()
		if lr == nil {
			return &UserError{fmt.Sprintf("profile %s is not connected to a server: no sessions to take", profile)}
		}
		var displays []string
		for _, s := range lr.link.Status().Sessions {
			if strings.HasPrefix(s.Name, ":") {
				displays = append(displays, s.Name)
			}
		}
		for _, n := range names {
			if !slices.Contains(displays, n) {
				return &UserError{fmt.Sprintf("no display session %q in profile %s (display sessions: %s)", n, profile, orNone(displays))}
			}
		}
		moved := lr.link.Take(names, 0)
		a.log.Info("take", "sessions", names, "asked", moved)
		return nil
	})
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// ensure the real link has what Link asks.
var _ Link = (*sessions.Link)(nil)
