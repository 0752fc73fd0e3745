package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// findSocketScript prints the path of display %d's xpra socket on the
// server, looking where `xpra list` (xpra 3.1) looks, without starting
// python: the default socket directories, then every socket-dir and
// socket-dirs of the system and user configuration (XPRA_SYSTEM_CONF_DIRS,
// XPRA_USER_CONF_DIRS, as xpra reads them), with ~, $UID, $USER and
// $XDG_RUNTIME_DIR expanded. A socket named HOSTNAME-N wins over another
// *-N; newer xpra's N/socket is found too. Exit status 3 and the
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
	printf '%%s\n' "$rt/xpra" "/run/user/$uid/xpra" /run/xpra "$HOME/.xpra"
	confs | while IFS= read -r f; do
		[ -r "$f" ] && sed -n 's/^[[:space:]]*socket-dirs*[[:space:]]*=[[:space:]]*//p' "$f" | tr ',' '\n'
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

// findXpraSocket finds display n's xpra socket on the server.
func findXpraSocket(ctx context.Context, c *ssh.Client, n int) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("%w: %w", errOpen, err)
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	// Runs under the user's login shell: say sh explicitly.
	err = sess.Run("sh -c " + shellQuote(fmt.Sprintf(findSocketScript, n)))
	path := strings.TrimSpace(out.String())
	var ee *ssh.ExitError
	switch {
	case err == nil && strings.HasPrefix(path, "/"):
		return path, nil
	case errors.As(err, &ee) && ee.ExitStatus() == 3:
		return "", fmt.Errorf("display :%d has no xpra socket on the server (%s): is `xpra start :%d` running there?: %w",
			n, strings.TrimSpace(errOut.String()), n, errNoSocket)
	case err == nil:
		return "", fmt.Errorf("display :%d: looking for its xpra socket printed %q", n, path)
	default:
		return "", fmt.Errorf("display :%d: look for its xpra socket on the server: %w: %s", n, err, strings.TrimSpace(errOut.String()))
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// privateSocket is the local end of a local session: a unix socket in a
// directory of its own (0700), itself 0600, never a TCP port. Each
// connection to it is spliced to a fresh channel to the server's socket;
// the first one takes the channel opened to check the socket.
type privateSocket struct {
	dir, path string
	ln        net.Listener
	dial      func() (net.Conn, error)

	mu     sync.Mutex
	first  net.Conn
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// runtimeDir is where private sockets go: $XDG_RUNTIME_DIR if set, else
// the temporary directory.
func runtimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return os.TempDir()
}

func listenPrivate(first net.Conn, dial func() (net.Conn, error)) (*privateSocket, error) {
	dir, err := os.MkdirTemp(runtimeDir(), "perch-local-xpra-") // 0700
	if err != nil {
		return nil, fmt.Errorf("create a private directory for the xpra socket: %w", err)
	}
	p := &privateSocket{dir: dir, path: filepath.Join(dir, "socket"), dial: dial, first: first, conns: map[net.Conn]struct{}{}}
	if p.ln, err = net.Listen("unix", p.path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("listen on the private xpra socket: %w", err)
	}
	if err := os.Chmod(p.path, 0o600); err != nil {
		p.ln.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("make the xpra socket private: %w", err)
	}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *privateSocket) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		rc := p.first
		p.first = nil
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			p.splice(c, rc)
		}()
	}
}

// splice carries one connection; rc is nil when a channel must be dialled.
func (p *privateSocket) splice(c, rc net.Conn) {
	defer c.Close()
	if rc == nil {
		var err error
		if rc, err = p.dial(); err != nil {
			p.untrack(c)
			return
		}
	}
	defer rc.Close()
	p.mu.Lock()
	p.conns[rc] = struct{}{}
	closed := p.closed
	p.mu.Unlock()
	defer p.untrack(c, rc)
	if closed {
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either end closing ends both: xpra has no half-closed state.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(rc, c)
	go cp(c, rc)
	<-done
	<-done
}

func (p *privateSocket) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// close stops listening, ends every connection and removes the directory.
func (p *privateSocket) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.first != nil {
		p.first.Close()
		p.first = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
	os.RemoveAll(p.dir)
}
