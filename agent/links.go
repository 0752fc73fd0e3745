package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/internal/sys/netwatch"
	"github.com/perchdesk/perch/sessions"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// ResolveServer resolves a configured server's ssh target through its
// ssh_config (or the default files) and the known_hosts policy to use.
func ResolveServer(name string, srv *config.Server) (*sshconf.Target, sshdial.Options, error) {
	var files []string
	if srv.SSHConfig != "" {
		files = []string{expandHome(srv.SSHConfig)}
	}
	t, err := sshconf.Resolve(srv.SSH, files)
	if err != nil {
		return nil, sshdial.Options{}, fmt.Errorf("server %s: %w: %w", name, err, config.ErrInvalid)
	}
	// perch's own known_hosts setting, when given, wins over ssh_config's
	// StrictHostKeyChecking, for the server and its jump hosts; when not
	// given, each host's own ssh_config decides (hostkey.Policy).
	return t, sshdial.Options{Policy: srv.KnownHosts}, nil
}

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
		t, dopts, err := ResolveServer(name, srv)
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

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, p[1:])
	}
	return p
}
