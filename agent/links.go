package agent

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/server"
	"github.com/perchdesk/perch/internal/sys/netwatch"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// Prompts are how a front end asks a person; nil functions mean headless
// (unknown host keys refused, encrypted keys need ssh-agent). ctx ends with
// the connection attempt that asked: the question must then go away.
type Prompts struct {
	HostKey    func(ctx context.Context, host string, key ssh.PublicKey) (accept, remember bool, err error)
	Passphrase func(ctx context.Context, keyFile string) ([]byte, error)
}

// WatchNetwork is Options.WatchNetwork of the real thing: the kernel's
// network change notifications (netwatch), a burst taken as one change once
// it has been quiet for 200 ms, and at most one change every 2 s, so that a
// flapping network cannot make a link connect in a loop.
func WatchNetwork(ctx context.Context, changed func()) error {
	return netwatch.Watch(ctx, 200*time.Millisecond, 2*time.Second, changed)
}

// SSHLinks is the LinkFactory of the real thing: a sessions.Link with X11
// forwarding to the local display.
func SSHLinks(display string, log *slog.Logger, p Prompts) LinkFactory {
	return func(name string, srv *config.Server) (Link, error) {
		t, dopts, err := server.Resolve(name, srv)
		if err != nil {
			return nil, err
		}
		dopts.HostKeyPrompt, dopts.Passphrase = p.HostKey, p.Passphrase
		x11, err := x11fwd.FindLocal(display)
		if err != nil {
			return nil, err
		}
		return sessions.New(sessions.Options{Server: name, Target: t, Dial: dopts, Keepalive: srv.Keepalive, X11: x11, Log: log}), nil
	}
}
