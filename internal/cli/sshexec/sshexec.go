// Package sshexec runs one remote command with X11 forwarding, as
// `ssh -Y host command` does: the one-shot path of perch exec and perch
// init, which needs no Link.
package sshexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// ExitConnect is the status Run returns when perch itself failed (no
// connection, refused host key), as ssh(1) returns 255.
const ExitConnect = 255

// Options are the streams and the display of a one-off command.
type Options struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer
	X11            *x11fwd.Local // nil: no X11 forwarding
	Log            *slog.Logger
}

// Run runs one remote command on t with X11 forwarding, as
// `ssh -Y host command` does: output streamed, input passed, and the remote
// exit status returned. A command killed by a signal returns 128+signal
// number where known. The error is non-nil only when the command could not
// run (the status is then ExitConnect).
func Run(ctx context.Context, t *sshconf.Target, dial sshdial.Options, command string, o Options) (int, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	client, _, err := sshdial.Dial(ctx, t, dial)
	if err != nil {
		return ExitConnect, err
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	var x11 *x11fwd.Forwarder
	if o.X11 != nil {
		x11, err = x11fwd.New(client, o.X11, o.Log, new(atomic.Int64))
		if err != nil {
			return ExitConnect, err
		}
		defer x11.Close()
		defer client.Close() // the forwarder's loop ends with the client
	}
	sess, err := client.NewSession()
	if err != nil {
		return ExitConnect, fmt.Errorf("open a session on %s: %w", t.Alias, err)
	}
	defer sess.Close()
	if x11 != nil {
		release, err := x11.Request(sess, "exec", nil)
		if err != nil {
			// As OpenSSH: a refused X11 request is a warning only.
			o.Log.Warn("X11 forwarding is not available", "err", err)
		} else {
			defer release()
		}
	}
	sess.Stdin, sess.Stdout, sess.Stderr = o.Stdin, o.Stdout, o.Stderr
	if err := sess.Run(command); err != nil {
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			if ee.Signal() != "" {
				return 128 + signalNumber(ee.Signal()), nil
			}
			return ee.ExitStatus(), nil
		}
		if ctx.Err() != nil {
			return ExitConnect, ctx.Err()
		}
		return ExitConnect, fmt.Errorf("run on %s: %w", t.Alias, err)
	}
	return 0, nil
}

func signalNumber(sig string) int {
	switch ssh.Signal(sig) {
	case ssh.SIGHUP:
		return 1
	case ssh.SIGINT:
		return 2
	case ssh.SIGQUIT:
		return 3
	case ssh.SIGABRT:
		return 6
	case ssh.SIGKILL:
		return 9
	case ssh.SIGSEGV:
		return 11
	case ssh.SIGPIPE:
		return 13
	case ssh.SIGALRM:
		return 14
	case ssh.SIGTERM:
		return 15
	}
	return 0
}
