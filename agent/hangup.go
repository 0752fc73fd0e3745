package agent

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// hangups holds SIGHUP from CatchHangups on.
var hangups struct {
	once sync.Once
	ch   chan os.Signal
}

// CatchHangups makes SIGHUP no longer end the process: call it first thing
// in main. A hangup that arrives before the agent runs is kept, and
// ReloadOnHangup reloads for it once it runs; a command that is no agent
// ends on it through StopOnHangup.
func CatchHangups() {
	hangups.once.Do(func() {
		hangups.ch = make(chan os.Signal, 1)
		signal.Notify(hangups.ch, syscall.SIGHUP)
	})
}

// StopOnHangup returns a context that also ends at a SIGHUP caught by
// CatchHangups, as the signal's default action would end the command.
func StopOnHangup(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if hangups.ch != nil {
		go func() {
			select {
			case <-hangups.ch:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// ReloadOnHangup reloads the configuration at every SIGHUP until ctx ends,
// as `perch up` and the tray do. The channel is closed once it has stopped
// listening for the signal.
func (a *Agent) ReloadOnHangup(ctx context.Context) <-chan struct{} {
	hup := hangups.ch
	if hup == nil {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if hup != hangups.ch {
			defer signal.Stop(hup)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.log.Info("SIGHUP: reloading the configuration")
				_ = a.Reload(ctx)
			}
		}
	}()
	return done
}
