package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/sys/proctab"
)

// xpra 3.1 reads configuration, places sockets and needs Python modules in
// ways the settings below work around: see docs/xpra.md.

// Xpra is an xpra server running `xpra start :N` with a small X app.
type Xpra struct {
	Display   int           // N
	Name      string        // ":N"
	Child     string        // the command xpra starts in the session, e.g. "xeyes"
	Dir       string        // private directory: configuration, log, HOME and XDG_RUNTIME_DIR of the server
	SocketDir string        // the directory holding the server's socket
	Log       string        // the server's output
	Started   time.Duration // how long the last start took until the server was ready

	xpra       string
	six        bool // xpra 6 (XpraOptions.Binary)
	env        []string
	socketMode string // xpra's socket-permissions: "600", or "666" for other users

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	closed bool
}

// xpraConf is the servers' whole configuration, on top of xpra's built-in
// defaults: every optional feature off.
const xpraConf = `# xpra.conf of an xpra server of perch's sandbox
xvfb = Xvfb +extension Composite -screen 0 1920x1080x24+32 -dpi 96 -nolisten tcp -noreset -auth $XAUTHORITY
start = %s
exit-with-children = no
terminate-children = yes
socket-dir = %s
socket-dirs = %s
socket-permissions = %s
log-dir = %s
mdns = no
pulseaudio = no
speaker = no
microphone = no
av-sync = no
notifications = no
system-tray = no
webcam = no
dbus-launch =
dbus-proxy = no
dbus-control = no
html = off
ssl = off
ssh-upgrade = no
rfb-upgrade = 0
printing = no
file-transfer = no
open-files = no
open-url = no
forward-xdg-open = no
systemd-run = no
opengl = noprobe
start-new-commands = no
start-via-proxy = no
input-method = none
idle-timeout = 0
server-idle-timeout = 0
`

// XpraOptions tunes StartXpraWith; the zero value is StartXpra's server.
type XpraOptions struct {
	// OtherUsers makes the server's socket reachable by other local users
	// (mode 666), for an sshd whose login user is not the current one.
	// Otherwise only the current user can attach (600).
	OtherUsers bool
	// Binary is the xpra to run (xpra 6.5.3's PREFIX/wrap/xpra, say); ""
	// is the xpra on PATH (Debian's 3.1.3).
	Binary string
}

// StartXpra starts `xpra start :display` running child (e.g. "xeyes") as
// the current user and returns once `xpra attach :display` can connect.
func StartXpra(ctx context.Context, display int, child string) (*Xpra, error) {
	return StartXpraWith(ctx, display, child, XpraOptions{})
}

// StartXpraWith is StartXpra with options.
func StartXpraWith(ctx context.Context, display int, child string, opts XpraOptions) (*Xpra, error) {
	xpra := opts.Binary
	if xpra == "" {
		var err error
		if xpra, err = FindBinary("xpra"); err != nil {
			return nil, err
		}
	}
	if _, err := FindBinary("Xvfb"); err != nil {
		return nil, fmt.Errorf("xpra needs Xvfb: %w", err)
	}
	if opts.Binary == "" {
		if err := checkXpraPython(xpra); err != nil {
			return nil, err
		}
	}
	if f := strings.Fields(child); len(f) == 0 {
		return nil, errors.New("StartXpra needs a command to run in the session")
	} else if _, err := FindBinary(f[0]); err != nil {
		return nil, err
	}
	sockets, err := acquireXpraSocketDir()
	if err != nil {
		return nil, err
	}
	x := &Xpra{Display: display, Name: ":" + strconv.Itoa(display), Child: child, SocketDir: sockets, xpra: xpra, socketMode: "600",
		six: opts.Binary != ""}
	if opts.OtherUsers {
		x.socketMode = "666"
	}
	if err := x.setup(); err != nil {
		if x.Dir != "" {
			os.RemoveAll(x.Dir)
		}
		releaseXpraSocketDir()
		return nil, err
	}
	t0 := time.Now()
	if err := x.start(ctx); err != nil {
		x.Close()
		return nil, err
	}
	x.Started = time.Since(t0)
	return x, nil
}

var xpraPython struct {
	once sync.Once
	err  error
}

// checkXpraPython checks, once per process, that the Python modules xpra
// 3.1 needs to forward a window at all are installed: Debian's xpra only
// recommends them, and without them the server drops every client that
// attaches ("No module named 'PIL'") and the client cannot paint.
func checkXpraPython(xpra string) error {
	xpraPython.once.Do(func() {
		python := []string{"python3"}
		if b, err := os.ReadFile(xpra); err == nil {
			if line, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(line, "#!") {
				if f := strings.Fields(line[2:]); len(f) > 0 {
					python = f
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		args := append(python[1:], "-c", "import PIL, gi; gi.require_foreign('cairo')")
		if out, err := exec.CommandContext(ctx, python[0], args...).CombinedOutput(); err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			xpraPython.err = fmt.Errorf("xpra cannot forward windows without the Python modules PIL and gi's cairo support "+
				"(packages python3-pil python3-gi-cairo): %w: %s", err, lines[len(lines)-1])
		}
	})
	return xpraPython.err
}

// setup creates Dir with the configuration and the environment.
func (x *Xpra) setup() error {
	dir, err := os.MkdirTemp("", fmt.Sprintf("perch-xpra%d-", x.Display))
	if err != nil {
		return fmt.Errorf("create the xpra directory: %w", err)
	}
	x.Dir = dir
	x.Log = filepath.Join(dir, "server.log")
	for _, d := range []string{"conf", "home", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return fmt.Errorf("create the xpra directory: %w", err)
		}
	}
	conf := fmt.Sprintf(xpraConf, x.Child, x.SocketDir, x.SocketDir, x.socketMode, dir)
	if x.six {
		// A 6.5.3 server with file-transfer off sends no "file"
		// capabilities, and a 6.5.3 client fails on that ("Error parsing
		// server capabilities"): leave it at xpra's default. Its sessions
		// directory (N/socket) goes under the private XDG_RUNTIME_DIR.
		conf = strings.Replace(conf, "file-transfer = no\n", "", 1)
		// xpra 6 checks that a unix socket's client says the server's
		// user name when the server runs as root (verify-username
		// defaults to is_admin()), and its abstract socket @xpra/N, which
		// `xpra attach :N` tries first, allows the server's uid only
		// (peercred): the bed's login user is another one. A user's own
		// server runs as that user, where neither check refuses anything.
		conf += "auth = none:verify-username=no\nbind = noabstract\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "xpra.conf"), []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write the xpra configuration: %w", err)
	}
	xauth := filepath.Join(dir, "Xauthority")
	if err := os.WriteFile(xauth, nil, 0o600); err != nil {
		return fmt.Errorf("create the xpra server's XAUTHORITY: %w", err)
	}
	x.env = append(MinimalEnv(),
		"HOME="+filepath.Join(dir, "home"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"XAUTHORITY="+xauth,
		"XPRA_SYSTEM_CONF_DIRS="+filepath.Join(dir, "conf"),
		"XPRA_USER_CONF_DIRS="+filepath.Join(dir, "conf"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-session-bus"),
	)
	return nil
}

// start runs the server and waits until it is ready, at most 30 seconds.
func (x *Xpra) start(ctx context.Context) error {
	logf, err := os.OpenFile(x.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the xpra log: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command(x.xpra, "start", x.Name, "--daemon=no")
	cmd.Env = x.env
	cmd.Dir = x.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start xpra: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	x.mu.Lock()
	x.cmd, x.done = cmd, done
	x.mu.Unlock()

	// xpra logs "xpra is ready." once its main loop runs; the socket then
	// accepts clients. Checking the log costs nothing, where every
	// `xpra info` would start another python.
	socket := x.Socket()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if strings.Contains(logSince(x.Log, offset), "xpra is ready.") && dialable(socket) {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("xpra server %s exited at start (%v): %s", x.Name, cmd.ProcessState, Tail(x.Log))
		case <-ctx.Done():
			return fmt.Errorf("start xpra server %s: %w", x.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("xpra server %s was not ready within 30s: %s", x.Name, Tail(x.Log))
		}
	}
}

// Socket returns the path of the server's socket (where xpra 3.1 creates
// it).
func (x *Xpra) Socket() string {
	host, _ := os.Hostname() // the server's environment has no XPRA_SOCKET_HOSTNAME
	return filepath.Join(x.SocketDir, fmt.Sprintf("%s-%d", host, x.Display))
}

// Accepting reports whether the server's socket accepts connections.
func (x *Xpra) Accepting() bool { return dialable(x.Socket()) }

// dialable reports whether a unix socket accepts connections.
func dialable(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Close stops the server, kills whatever is left of it and removes Dir. It
// may be called more than once.
//
// It sends SIGTERM, on which xpra 3.1 runs the same clean shutdown as
// `xpra stop` (the session's children, the Xvfb and the socket go away)
// without paying for another python process.
func (x *Xpra) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	x.mu.Unlock()
	err := x.stop(syscall.SIGTERM, 10*time.Second)
	os.Remove(x.Socket())
	releaseXpraSocketDir()
	if rerr := os.RemoveAll(x.Dir); err == nil && rerr != nil {
		err = fmt.Errorf("remove the xpra directory: %w", rerr)
	}
	return err
}

// Kill kills the server and everything it started with SIGKILL, as if it
// had crashed; its socket stays behind, dead. Restart starts it again.
func (x *Xpra) Kill() error {
	return x.stop(syscall.SIGKILL, 0)
}

// Restart starts the server again on the same display (killing it first
// if it still runs) and waits until it is ready.
func (x *Xpra) Restart(ctx context.Context) error {
	x.mu.Lock()
	closed := x.closed
	x.mu.Unlock()
	if closed {
		return errors.New("the xpra server is closed")
	}
	if err := x.Kill(); err != nil {
		return err
	}
	x.clearStale()
	return x.start(ctx)
}

// clearStale removes what a killed server left behind: its socket, which
// would make the new server probe it for 6 seconds, and the X lock files of
// its Xvfb if they name a process that is gone or a zombie not yet reaped
// (Xvfb itself takes a zombie's lock for a live server).
func (x *Xpra) clearStale() {
	os.Remove(x.Socket())
	lock := fmt.Sprintf("/tmp/.X%d-lock", x.Display)
	b, err := os.ReadFile(lock)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	if !proctab.Alive(pid) {
		os.Remove(fmt.Sprintf("/tmp/.X11-unix/X%d", x.Display))
		os.Remove(lock)
	}
}

// stop signals the server, waits up to grace for it to exit and then kills
// every process left of it.
func (x *Xpra) stop(sig syscall.Signal, grace time.Duration) error {
	x.mu.Lock()
	cmd, done := x.cmd, x.done
	x.cmd = nil
	x.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pid := cmd.Process.Pid
	// xpra starts its Xvfb in a session of its own: remember the whole
	// tree before the server dies and its children are orphaned.
	procs, _ := proctab.Read()
	tree := procs.Descendants(pid)
	var err error
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(pid, sig)
		select {
		case <-done:
		case <-time.After(grace):
			err = fmt.Errorf("xpra server %s did not stop within %v: %s", x.Name, grace, Tail(x.Log))
		}
	}
	select {
	case <-done: // the pid and the process group may be reused already
	default:
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	procs.KillSnapshot(tree)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		if err == nil {
			err = fmt.Errorf("xpra server %s (pid %d) did not exit within 5s of SIGKILL", x.Name, pid)
		}
	}
	if left := proctab.WaitGone(tree, 5*time.Second); len(left) > 0 && err == nil {
		err = fmt.Errorf("processes %v of xpra server %s survive SIGKILL", left, x.Name)
	}
	return err
}

// The xpra socket directory every server and every SSHD's client defaults
// of this process share: a client finds servers only in the socket-dirs it
// is configured with, and servers and SSHDs may be started in any order.
// It exists while any server or SSHD with client defaults uses it.
var xpraSockets struct {
	sync.Mutex
	dir  string
	refs int
}

// acquireXpraSocketDir returns the shared xpra socket directory, creating
// it if needed; releaseXpraSocketDir must follow.
func acquireXpraSocketDir() (string, error) {
	xpraSockets.Lock()
	defer xpraSockets.Unlock()
	if xpraSockets.refs == 0 {
		dir, err := os.MkdirTemp("", "perch-xpra-sockets-")
		if err != nil {
			return "", fmt.Errorf("create the xpra socket directory: %w", err)
		}
		// The sshd's login user, when another one, looks for the servers here.
		if err := os.Chmod(dir, 0o755); err != nil {
			return "", fmt.Errorf("create the xpra socket directory: %w", err)
		}
		xpraSockets.dir = dir
	}
	xpraSockets.refs++
	return xpraSockets.dir, nil
}

// releaseXpraSocketDir drops a reference and removes the directory with
// the last one.
func releaseXpraSocketDir() {
	xpraSockets.Lock()
	defer xpraSockets.Unlock()
	xpraSockets.refs--
	if xpraSockets.refs == 0 {
		os.RemoveAll(xpraSockets.dir)
		xpraSockets.dir = ""
	}
}

// xpraClientConf is the remote `xpra attach`'s configuration, read on top
// of /etc/xpra: quiet and cheap.
const xpraClientConf = `# xpra client defaults of perch's sandbox (see sandbox.WriteXpraClientDefaults)
socket-dirs = %s
opengl = no
speaker = no
microphone = no
av-sync = no
mmap = no
tray = no
delay-tray = no
system-tray = no
notifications = no
webcam = no
printing = no
file-transfer = no
open-files = no
open-url = no
mdns = no
bell = no
`

// WriteXpraClientDefaults writes the defaults of the `xpra attach` run
// through this sshd into Home/.xpra/xpra.conf: no OpenGL probe, no audio,
// no tray, notifications, webcam, printing, file transfer or mdns, and the
// socket directory of the servers StartXpra starts. The sessions find the
// file through XPRA_USER_CONF_DIRS (set by sshd_config), because xpra 3.1
// does not read ~/.xpra for root; for other users ~/.xpra is the default
// place anyway.
func (s *SSHD) WriteXpraClientDefaults() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("the test sshd is closed")
	}
	if !s.socketsRef {
		if _, err := acquireXpraSocketDir(); err != nil {
			return err
		}
		s.socketsRef = true
	}
	xpraSockets.Lock()
	sockets := xpraSockets.dir
	xpraSockets.Unlock()
	dir := filepath.Join(s.Home, ".xpra")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the xpra client directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "xpra.conf"), []byte(fmt.Sprintf(xpraClientConf, sockets)), 0o600); err != nil {
		return fmt.Errorf("write the xpra client defaults: %w", err)
	}
	return s.giveHome()
}
