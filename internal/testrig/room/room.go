// Package room runs a room of thin clients on this machine: N seats, each
// a `perch up` (or, for the benchmark's anchor, autossh -M 0 with ssh -Y)
// with its own location and its own server account, on one sshd with the
// default MaxStartups inside a network namespace, each seat with one
// session (xlogo, X11-forwarded to one shared Xvfb).
package room

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/sandbox"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// Options configure a room.
type Options struct {
	Seats int
	Perch string // the perch binary
	// Anchor: the seats run `autossh -M 0` + `ssh -Y` (autossh's own
	// schedule) instead of perch up.
	Anchor bool
	// Keepalive is the seats' ServerAliveInterval (3 missed = dead).
	Keepalive time.Duration
}

// Room is a running room. Its methods are not safe for concurrent use,
// except Back, Drops and Attempts.
type Room struct {
	Opts  Options
	Dir   string
	Netns *testbed.Netns
	Xvfb  *testbed.Display
	Seats []*Seat

	sshdBin, config string
	sshd            *exec.Cmd
	sshdDone        chan struct{}
	log             sshdLog
}

// Seat is one thin client.
type Seat struct {
	Name, User string
	UID        int
	Dir        string
	Socket     string // perch's control socket ("" for the anchor)
	cmd        *exec.Cmd
	done       chan struct{}
}

// UserName is seat i's server account.
func UserName(i int) string { return fmt.Sprintf("perchroom%02d", i+1) }

// Start builds the room and starts every seat; it returns once sshd
// listens (the seats come up on their own: see WaitBack).
func Start(ctx context.Context, o Options) (_ *Room, err error) {
	if o.Keepalive == 0 {
		o.Keepalive = 2 * time.Second
	}
	if err := testbed.NetnsSupported(); err != nil {
		return nil, err
	}
	r := &Room{Opts: o}
	if r.sshdBin, err = sandbox.FindBinary("/usr/sbin/sshd", "sshd"); err != nil {
		return nil, errors.New("the OpenSSH server is not installed (package openssh-server)")
	}
	for _, b := range []string{"xlogo", "xauth", "autossh"} {
		if _, err := sandbox.FindBinary(b); err != nil && (b != "autossh" || o.Anchor) {
			return nil, fmt.Errorf("%s is not installed (scripts/deps.sh)", b)
		}
	}
	if r.Dir, err = os.MkdirTemp("", "perch-room-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	// The accounts reach their homes through it.
	if err := os.Chmod(r.Dir, 0o711); err != nil {
		return nil, err
	}
	if r.Netns, err = testbed.NewNetns(); err != nil {
		return nil, err
	}
	if r.Xvfb, err = testbed.StartXvfb("1280x1024x24"); err != nil {
		return nil, err
	}
	if err := r.writeServer(); err != nil {
		return nil, err
	}
	for i := range o.Seats {
		s, err := r.addSeat(i)
		if err != nil {
			return nil, err
		}
		r.Seats = append(r.Seats, s)
	}
	if err := r.StartSSHD(ctx); err != nil {
		return nil, err
	}
	for _, s := range r.Seats {
		if err := r.startSeat(s); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// writeServer writes the keys, sshd_config (MaxStartups left at its
// default, 10:30:100) and the seats' ssh_config.
func (r *Room) writeServer() error {
	hostKey := filepath.Join(r.Dir, "ssh_host_ed25519_key")
	hk, err := sandbox.WriteKey(hostKey, "perch room host")
	if err != nil {
		return err
	}
	userKey := filepath.Join(r.Dir, "id_ed25519")
	if _, err := sandbox.WriteKey(userKey, "perch room seats"); err != nil {
		return err
	}
	pub, err := os.ReadFile(userKey + ".pub")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "authorized_keys"), pub, 0o644); err != nil {
		return err
	}
	r.config = filepath.Join(r.Dir, "sshd_config")
	q := strconv.Quote
	cfg := fmt.Sprintf(`ListenAddress %s:22
HostKey %s
PidFile none
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
X11Forwarding yes
X11UseLocalhost yes
X11DisplayOffset 200
XAuthLocation /usr/bin/xauth
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
`, r.Netns.NSAddr, q(hostKey), q(filepath.Join(r.Dir, "authorized_keys")))
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		return err
	}
	kh := knownhosts.Line([]string{knownhosts.Normalize(r.Netns.NSAddr + ":22")}, hk) + "\n"
	if err := os.WriteFile(filepath.Join(r.Dir, "known_hosts"), []byte(kh), 0o600); err != nil {
		return err
	}
	secs := int(r.Opts.Keepalive / time.Second)
	sshCfg := fmt.Sprintf(`Host room
  HostName %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
  ServerAliveInterval %d
  ServerAliveCountMax 3
  ControlMaster no
  ControlPath none
  LogLevel ERROR
`, r.Netns.NSAddr, q(userKey), q(filepath.Join(r.Dir, "known_hosts")), max(secs, 1))
	return os.WriteFile(r.sshConfig(), []byte(sshCfg), 0o600)
}

func (r *Room) sshConfig() string { return filepath.Join(r.Dir, "ssh_config") }

// addSeat makes seat i's account (home in the room's directory) and its
// files.
func (r *Room) addSeat(i int) (*Seat, error) {
	s := &Seat{Name: fmt.Sprintf("seat%02d", i+1), User: UserName(i), Dir: filepath.Join(r.Dir, fmt.Sprintf("seat%02d", i+1))}
	home := filepath.Join(r.Dir, "home", s.User)
	uid, gid, err := ensureUser(s.User, home)
	if err != nil {
		return nil, err
	}
	s.UID = uid
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Dir(home), 0o711); err != nil {
		return nil, err
	}
	if err := os.Chown(home, uid, gid); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "run"), 0o700); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`location = %q
[server.room]
ssh = %q
ssh_config = %q
[profile.seat]
server = "room"
[[profile.seat.session]]
name = "logo"
command = "xlogo"
`, s.Name, s.User+"@room", r.sshConfig())
	return s, os.WriteFile(filepath.Join(s.Dir, "config.toml"), []byte(cfg), 0o600)
}

// ensureUser makes (or points at home) the unprivileged account name.
func ensureUser(name, home string) (uid, gid int, err error) {
	if out, err := exec.Command("id", "-u", name).Output(); err != nil || len(out) == 0 {
		if out, err := exec.Command("useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", name).CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("useradd %s (needs root): %v: %s", name, err, out)
		}
	} else if out, err := exec.Command("usermod", "--home", home, name).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("usermod --home %s %s: %v: %s", home, name, err, out)
	}
	// useradd locks the account; sshd without PAM refuses a locked one
	// even for a key.
	if out, err := exec.Command("usermod", "--password", "*", name).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("usermod --password %s: %v: %s", name, err, out)
	}
	for i, flag := range []string{"-u", "-g"} {
		out, err := exec.Command("id", flag, name).Output()
		if err != nil {
			return 0, 0, fmt.Errorf("id %s %s: %v", flag, name, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			return 0, 0, err
		}
		if i == 0 {
			uid = n
		} else {
			gid = n
		}
	}
	return uid, gid, nil
}

// startSeat starts a seat's client: perch up, or autossh with ssh -Y.
func (r *Room) startSeat(s *Seat) error {
	var cmd *exec.Cmd
	if r.Opts.Anchor {
		cmd = exec.Command("autossh", "-M", "0", "-F", r.sshConfig(), "-Y", "-T", s.User+"@room", "xlogo")
		cmd.Env = append(sandbox.MinimalEnv(), "AUTOSSH_GATETIME=0", "HOME="+s.Dir)
	} else {
		s.Socket = filepath.Join(s.Dir, "run", "control.sock")
		cmd = exec.Command(r.Opts.Perch, "up", "seat", "--socket", s.Socket, "--config", filepath.Join(s.Dir, "config.toml"))
		cmd.Env = append(sandbox.MinimalEnv(), "HOME="+s.Dir, "XDG_RUNTIME_DIR="+filepath.Join(s.Dir, "run"),
			"XDG_CONFIG_DIRS="+filepath.Join(s.Dir, "xdg"), "XDG_STATE_HOME="+filepath.Join(s.Dir, "state"))
	}
	cmd.Env = append(cmd.Env, r.Xvfb.Env()...)
	logf, err := os.OpenFile(filepath.Join(s.Dir, "client.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Name, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	return nil
}

// Revive starts again the seats' clients that exited (autossh ends when
// its remote command was killed) and returns how many.
func (r *Room) Revive() (int, error) {
	n := 0
	for _, s := range r.Seats {
		if s.Exited() {
			if err := r.startSeat(s); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Log returns the end of a seat's client log.
func (s *Seat) Log() string { return sandbox.Tail(filepath.Join(s.Dir, "client.log")) }

// Exited reports whether the seat's client exited.
func (s *Seat) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close stops the seats (their process groups), sshd and everything in
// the namespace, the Xvfb, and removes the directory.
func (r *Room) Close() {
	for _, s := range r.Seats {
		if s.cmd != nil && !s.Exited() {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
	}
	if r.Netns != nil {
		_ = r.StopSSHD()
		r.Netns.Close()
	}
	if r.Xvfb != nil {
		r.Xvfb.Close()
	}
	if r.Dir != "" {
		os.RemoveAll(r.Dir)
	}
}

// logLine is one line of sshd's log and when it was read.
type logLine struct {
	at   time.Time
	text string
}

// sshdLog is sshd's log with the time each line arrived (sshd -e writes
// no time stamps).
type sshdLog struct {
	mu    sync.Mutex
	lines []logLine
	wait  chan struct{} // closed and replaced at every line
}

func (l *sshdLog) read(rd io.Reader, file io.Writer) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, logLine{time.Now(), sc.Text()})
		if l.wait != nil {
			close(l.wait)
			l.wait = nil
		}
		l.mu.Unlock()
		fmt.Fprintln(file, sc.Text())
	}
}

// since returns the lines that arrived in [from, to).
func (l *sshdLog) since(from, to time.Time) []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, ln := range l.lines {
		if !ln.at.Before(from) && ln.at.Before(to) {
			out = append(out, ln)
		}
	}
	return out
}
