package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
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
			return &api.UserError{Msg: fmt.Sprintf("profile %s is not connected to a server: no sessions to take", profile)}
		}
		var displays []string
		for _, s := range lr.link.Status().Sessions {
			if strings.HasPrefix(s.Name, ":") {
				displays = append(displays, s.Name)
			}
		}
		for _, n := range names {
			if !slices.Contains(displays, n) {
				return &api.UserError{Msg: fmt.Sprintf("no display session %q in profile %s (display sessions: %s)", n, profile, orNone(displays))}
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

// ActivityWatcher is a Display that tells when its user becomes active
// after being idle (XDisplay does, with the SYNC extension).
type ActivityWatcher interface {
	WatchActivity(ctx context.Context, after time.Duration) (<-chan time.Time, error)
}

// followRun is the activity watch of a profile with follow = "activity".
type followRun struct {
	after  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// setFollow starts, keeps or stops the activity watch as the running
// profile says: input here after follow_after of idleness takes the
// profile's displays from wherever they are, unless another location took
// them less than follow_after ago (no ping-pong between two busy places).
func (a *Agent) setFollow(prof *config.Profile) {
	a.mu.Lock()
	fr := a.follow
	a.mu.Unlock()
	want := prof.Follow == config.FollowActivity
	if fr != nil && want && fr.after == prof.FollowAfter {
		return
	}
	if fr != nil {
		fr.cancel()
		<-fr.done
		a.mu.Lock()
		a.follow = nil
		a.mu.Unlock()
	}
	aw, ok := a.opts.Display.(ActivityWatcher)
	if !want || !ok || a.runCtx == nil {
		return
	}
	ctx, cancel := context.WithCancel(a.runCtx)
	ch, err := aw.WatchActivity(ctx, prof.FollowAfter)
	if err != nil {
		cancel()
		a.log.Warn("follow = \"activity\" cannot work: sessions stay where they are until taken", "err", err)
		return
	}
	fr = &followRun{after: prof.FollowAfter, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(fr.done)
		for range ch {
			a.mu.Lock()
			lr := a.link
			a.mu.Unlock()
			if lr == nil {
				continue
			}
			if moved := lr.link.Take(nil, fr.after); len(moved) > 0 {
				a.log.Info("follow: input here after idleness; taking the sessions", "sessions", moved)
			}
		}
	}()
	a.mu.Lock()
	a.follow = fr
	a.mu.Unlock()
}

// stopFollow ends the activity watch, if any.
func (a *Agent) stopFollow() {
	a.mu.Lock()
	fr := a.follow
	a.follow = nil
	a.mu.Unlock()
	if fr != nil {
		fr.cancel()
		<-fr.done
	}
}
