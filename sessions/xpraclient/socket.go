package xpraclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// findSocketScript prints the path of display %d's xpra socket on the
// server, looking where `xpra list` looks, xpra 3.1's and 6's, without
// starting python: xpra 6's sessions directory (XPRA_SESSIONS_DIR, else
// $XDG_RUNTIME_DIR/xpra, else /tmp/xpra) and XPRA_SOCKET_DIRS, the default
// socket directories, then every sessions-dir, socket-dir and socket-dirs
// of the system and user configuration (XPRA_SYSTEM_CONF_DIRS,
// XPRA_USER_CONF_DIRS, as xpra reads them), with ~, $UID, $USER and
// $XDG_RUNTIME_DIR expanded. In each directory a socket named HOSTNAME-N
// wins over another *-N, then xpra 6's N/socket. Exit status 3 and the
// directories searched on stderr: no socket.
const findSocketScript = `n=%d
uid=$(id -u); user=$(id -un 2>/dev/null); host=${XPRA_SOCKET_HOSTNAME:-$(uname -n)}
rt=${XDG_RUNTIME_DIR:-/run/user/$uid}
confs() {
	IFS=:
	for d in ${XPRA_SYSTEM_CONF_DIRS:-/etc/xpra}; do printf '%%s\n' "$d"/conf.d/*.conf "$d/xpra.conf"; done
	for d in ${XPRA_USER_CONF_DIRS:-$HOME/.config/xpra:$HOME/.xpra}; do printf '%%s\n' "$d/xpra.conf"; done
}
dirs() {
	[ -n "$XPRA_SESSIONS_DIR" ] && printf '%%s\n' "$XPRA_SESSIONS_DIR"
	[ -n "$XPRA_SOCKET_DIRS" ] && printf '%%s\n' "$XPRA_SOCKET_DIRS" | tr ':' '\n'
	printf '%%s\n' "$rt/xpra" "/run/user/$uid/xpra" /run/xpra "$HOME/.xpra" /tmp/xpra
	confs | while IFS= read -r f; do
		[ -r "$f" ] && sed -n -e 's/^[[:space:]]*socket-dirs*[[:space:]]*=[[:space:]]*//p' \
			-e 's/^[[:space:]]*sessions-dir[[:space:]]*=[[:space:]]*//p' "$f" | tr ',' '\n'
	done
}
searched=
for d in $(dirs | sed -e "s|^~|$HOME|" -e "s|\$UID|$uid|g" -e "s|\${UID}|$uid|g" -e "s|\$USER|$user|g" \
	-e "s|\${USER}|$user|g" -e "s|\$XDG_RUNTIME_DIR|$rt|g" -e "s|\${XDG_RUNTIME_DIR}|$rt|g" -e 's/[[:space:]]*$//'); do
	searched="$searched $d"
	for s in "$d/$host-$n" "$d"/*-"$n" "$d/$n/socket"; do
		[ -S "$s" ] && { printf '%%s\n' "$s"; exit 0; }
	done
done
echo "searched:$searched" >&2
exit 3
`

// ErrNoSocket: the display has no socket on the server.
var ErrNoSocket = errors.New("no xpra socket")

// ErrSession: a session channel to run the search could not be opened
// (the connection is probably going).
var ErrSession = errors.New("open a session channel")

// FindSocket finds display n's xpra socket on the server.
func FindSocket(ctx context.Context, c *ssh.Client, n int) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSession, err)
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	// Runs under the user's login shell: say sh explicitly.
	err = sess.Run("sh -c " + ShellQuote(fmt.Sprintf(findSocketScript, n)))
	path := strings.TrimSpace(out.String())
	var ee *ssh.ExitError
	switch {
	case err == nil && strings.HasPrefix(path, "/"):
		return path, nil
	case errors.As(err, &ee) && ee.ExitStatus() == 3:
		return "", fmt.Errorf("display :%d has no xpra socket on the server (%s): is `xpra start :%d` running there?: %w",
			n, strings.TrimSpace(errOut.String()), n, ErrNoSocket)
	case err == nil:
		return "", fmt.Errorf("display :%d: looking for its xpra socket printed %q", n, path)
	default:
		return "", fmt.Errorf("display :%d: look for its xpra socket on the server: %w: %s", n, err, strings.TrimSpace(errOut.String()))
	}
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// DialStreamLocal opens a direct-streamlocal@openssh.com channel to path
// on the server.
func DialStreamLocal(ctx context.Context, c *ssh.Client, path string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		nc, err := c.Dial("unix", path)
		ch <- res{nc, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
