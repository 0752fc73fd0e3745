// Package control is the agent's control socket: HTTP with JSON on a Unix
// socket private to its user (directory 0700, socket 0600, and every
// connection's peer UID checked with SO_PEERCRED), and the client that
// `perch status/switch/reconnect/down/reload` and the tray use.
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/perchdesk/perch/api"
)

// DefaultPath is $XDG_RUNTIME_DIR/perch/control.sock, else
// /tmp/perch-$UID/control.sock.
func DefaultPath(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "perch", "control.sock")
	}
	return filepath.Join(os.TempDir(), "perch-"+strconv.Itoa(os.Getuid()), "control.sock")
}

// API is what the socket serves; *agent.Agent implements it.
type API interface {
	Status() api.Status
	// Updated returns a channel closed at the next change of Status.
	Updated() <-chan struct{}
	Switch(ctx context.Context, profile string) error
	Reconnect(ctx context.Context, session string) error
	Reload(ctx context.Context) error
	Disconnect(ctx context.Context) error
	// Take brings display sessions here (all when none is named).
	Take(ctx context.Context, sessions []string) error
}

// HeldError says another agent holds the socket.
type HeldError struct {
	Path string
	PID  int
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another perch agent (pid %d) holds %s; stop it with `perch down`, or pass --socket PATH", e.PID, e.Path)
}

// Listen makes the socket's directory (0700, owned by this user), refuses
// when a live agent answers on path, removes a stale socket file, and
// listens with mode 0600. Connections from another UID are refused.
func Listen(path string, log *slog.Logger) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// A directory that was already there is never changed (--socket
	// /tmp/x.sock must not make /tmp private); one others own or can
	// write to, where they could replace the socket, is refused.
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Two agents starting at once on a stale socket take turns: the
	// second finds the first one listening and names it.
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	defer unlock()
	if fi, err := os.Lstat(path); err == nil {
		// Only a socket may be replaced: --socket naming some other file
		// must not delete it.
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket: %s exists and is not a socket; pass --socket with another path", path)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := (&Client{Path: path}).Status(ctx)
		cancel()
		if err == nil {
			return nil, &HeldError{Path: path, PID: s.PID}
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket: remove the stale %s: %w", path, err)
		}
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return &peerListener{Listener: ln, uid: os.Getuid(), log: log}, nil
}

// lockDir takes an exclusive lock on the directory dir (flock on the
// directory itself: no file is left behind) and returns its release.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// checkDir refuses a socket directory that is not this user's own or that
// other users can write to: whoever can, can put their own agent there.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s is not a directory of this user", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		if fi.Mode()&os.ModeSticky != 0 {
			perm |= 0o1000
		}
		return fmt.Errorf("%s is writable by other users (mode %04o); put the socket in a private directory", dir, uint32(perm))
	}
	return nil
}

// peerListener refuses connections whose peer is another user.
type peerListener struct {
	net.Listener
	uid int
	log *slog.Logger
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := PeerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		l.log.Warn("control socket: connection refused", "peer_uid", uid, "err", err)
		c.Close()
	}
}

// PeerUID returns the UID of a Unix socket connection's peer.
func PeerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if cerr != nil {
		return -1, cerr
	}
	return int(cred.Uid), nil
}
