package sandbox

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
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

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/perchdesk/perch/internal/sys/proctab"
)

// HostAlias is the Host entry of every SSHD's ssh_config.
const HostAlias = "perch-test"

// sshdMarkerVar is set in the environment of the listening sshd and, through
// SetEnv, of every remote session, so that Stop and Close find the session
// processes even after they have been orphaned (for example after a test
// killed the connection's sshd processes).
const sshdMarkerVar = "PERCH_SANDBOX_SSHD"

// SSHD is an OpenSSH sshd on 127.0.0.1 (or another address, see
// SSHDOptions) with throwaway keys.
//
// Remote sessions run with HOME=Home (a directory inside Dir), so that
// client defaults written there (see WriteXpraClientDefaults) apply only to
// the sandbox and the machine's real home directory is never touched.
// This is done with sshd_config's SetEnv: OpenSSH applies the admin's
// SetEnv after it has set HOME from the password database, so SetEnv wins
// (verified with OpenSSH 9.2 by testbed's TestSSHD). The remote command still runs
// through the user's shell as usual, so exit statuses, stdin/stdout,
// signals and the forwarded DISPLAY pass through untouched, which a
// ForceCommand wrapper would have had to re-create.
type SSHD struct {
	Addr        string        // "HOST:PORT"
	Host        string        // the listening address: 127.0.0.1, or SSHDOptions.Host
	Port        int           // the listening port
	Dir         string        // private directory holding everything below
	User        string        // the login user (the current user)
	HostKey     ssh.PublicKey // the server's ed25519 host key
	HostKeyFile string        // its private key file
	UserKey     string        // unencrypted ed25519 private key (OpenSSH format) that may log in; UserKey+".pub" exists
	KnownHosts  string        // known_hosts file with "[127.0.0.1]:PORT <hostkey>"
	SSHConfig   string        // ssh_config file with a Host HostAlias entry
	HostAlias   string        // "perch-test"
	Home        string        // HOME of the remote sessions
	Log         string        // sshd's log (LogLevel VERBOSE)

	sshd    string // absolute path of the sshd binary
	config  string // sshd_config
	marker  string // sshdMarkerVar=Dir
	path    string // SSHDOptions.Path
	extra   string // SSHDOptions.Config
	command func(name string, args ...string) *exec.Cmd

	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{}
	closed     bool
	socketsRef bool // holds a reference on the shared xpra socket directory

	other    bool // the login user is not the current one
	uid, gid int  // the login user's, when other
}

// SSHDOptions tunes StartSSHD; the zero value is an sshd on 127.0.0.1.
type SSHDOptions struct {
	// Host is the address sshd listens on instead of 127.0.0.1 (the port
	// is still picked free on 127.0.0.1, which is as good as any on a
	// fresh address).
	Host string
	// Command, if set, makes the command that runs sshd, for example
	// inside a network namespace; it defaults to exec.Command.
	Command func(name string, args ...string) *exec.Cmd
	// User is the login user; "" is the current one. Another user is
	// created with useradd when missing, which needs root.
	User string
	// Path is the sessions' PATH, for example with xpra 6.5.3's
	// PREFIX/wrap first, as a user who installed xpra.org's package finds
	// its xpra first; "" leaves sshd's default PATH.
	Path string
	// Config are sshd_config lines put before the sandbox's own, so that
	// they win (sshd takes the first value of a keyword), e.g.
	// "X11Forwarding no".
	Config string
}

// StartSSHD starts an sshd on a free port with fresh host and user keys,
// and returns once it accepts connections.
func StartSSHD(ctx context.Context, opts SSHDOptions) (*SSHD, error) {
	sshd, err := FindBinary("/usr/sbin/sshd", "sshd")
	if err != nil {
		return nil, errors.New("the OpenSSH server is not installed (package openssh-server)")
	}
	if sshd, err = filepath.Abs(sshd); err != nil {
		return nil, fmt.Errorf("find sshd: %w", err)
	}
	if _, err := FindBinary("ssh"); err != nil {
		return nil, errors.New("the OpenSSH client is not installed (package openssh-client)")
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start without its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("create sshd's privilege separation directory: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "perch-sshd-")
	if err != nil {
		return nil, fmt.Errorf("create the sshd directory: %w", err)
	}
	s := &SSHD{Dir: dir, Host: "127.0.0.1", HostAlias: HostAlias, sshd: sshd, marker: sshdMarkerVar + "=" + dir, command: opts.Command}
	if opts.Host != "" {
		s.Host = opts.Host
	}
	if s.command == nil {
		s.command = exec.Command
	}
	s.path, s.extra = opts.Path, opts.Config
	if err := s.setup(opts.User); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Another process may take the free port before sshd binds it: retry
	// with a new one a few times.
	for attempt := 0; ; attempt++ {
		err = s.Start(ctx)
		if err == nil {
			return s, nil
		}
		if attempt == 4 || !errors.Is(err, errPortTaken) {
			s.Close()
			return nil, err
		}
		if err := s.choosePort(); err != nil {
			s.Close()
			return nil, err
		}
	}
}

var errPortTaken = errors.New("the port is taken")

// setup creates the keys, the home directory and the first configuration,
// for the login user (the current one when "").
func (s *SSHD) setup(user string) error {
	u, err := currentUser()
	if err != nil {
		return err
	}
	s.User = u
	if user != "" && user != u {
		if s.uid, s.gid, err = ensureUser(user); err != nil {
			return err
		}
		s.User, s.other = user, true
		// The user reaches its home and keys through the directory.
		if err := os.Chmod(s.Dir, 0o711); err != nil {
			return err
		}
	}
	s.Home = filepath.Join(s.Dir, "home")
	s.Log = filepath.Join(s.Dir, "sshd.log")
	s.HostKeyFile = filepath.Join(s.Dir, "ssh_host_ed25519_key")
	s.UserKey = filepath.Join(s.Dir, "id_ed25519")
	s.KnownHosts = filepath.Join(s.Dir, "known_hosts")
	s.SSHConfig = filepath.Join(s.Dir, "ssh_config")
	s.config = filepath.Join(s.Dir, "sshd_config")
	if err := os.Mkdir(s.Home, 0o700); err != nil {
		return fmt.Errorf("create the sessions' home directory: %w", err)
	}
	// sshd's xauth writes the forwarded display's cookie here; an empty
	// file spares every first X11 session a "does not exist" message.
	if err := os.WriteFile(filepath.Join(s.Home, ".Xauthority"), nil, 0o600); err != nil {
		return fmt.Errorf("create the sessions' XAUTHORITY: %w", err)
	}
	if s.HostKey, err = WriteKey(s.HostKeyFile, "perch test host"); err != nil {
		return fmt.Errorf("create the sshd host key: %w", err)
	}
	userPub, err := WriteKey(s.UserKey, "perch test user")
	if err != nil {
		return fmt.Errorf("create the user key: %w", err)
	}
	authorized := filepath.Join(s.Dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(userPub), 0o644); err != nil {
		return fmt.Errorf("write authorized_keys: %w", err)
	}
	if err := s.giveHome(); err != nil {
		return err
	}
	return s.choosePort()
}

// WriteKey writes a new ed25519 private key in OpenSSH format to path and
// its public key to path+".pub".
func WriteKey(path, comment string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + comment + "\n"
	if err := os.WriteFile(path+".pub", []byte(line), 0o644); err != nil {
		return nil, err
	}
	return sshPub, nil
}

// choosePort picks a free port and writes every file that names it.
func (s *SSHD) choosePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("find a free port for sshd: %w", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if err := os.WriteFile(s.config, []byte(s.sshdConfig()), 0o600); err != nil {
		return fmt.Errorf("write sshd_config: %w", err)
	}
	kh := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey) + "\n"
	if err := os.WriteFile(s.KnownHosts, []byte(kh), 0o600); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if err := os.WriteFile(s.SSHConfig, []byte(s.sshConfig()), 0o600); err != nil {
		return fmt.Errorf("write ssh_config: %w", err)
	}
	return nil
}

// sshdConfig returns the server's sshd_config.
func (s *SSHD) sshdConfig() string {
	q := strconv.Quote
	return fmt.Sprintf(`# sshd_config of perch's sandbox
%sListenAddress %s
AddressFamily inet
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
PermitUserEnvironment no
StrictModes no
UsePAM no
# Forwarded displays start at localhost:200, far above the displays the
# xpra servers and the X servers of the sandbox use.
X11Forwarding yes
X11UseLocalhost yes
X11DisplayOffset 200
XAuthLocation /usr/bin/xauth
Subsystem sftp internal-sftp
LogLevel VERBOSE
MaxSessions 30
MaxStartups 50
ClientAliveInterval 0
PrintMotd no
PrintLastLog no
# SetEnv comes after sshd has set HOME (and PATH) from the password
# database, so the sessions' HOME is the sandbox's own. xpra 3.1 never
# reads ~/.xpra for root, so XPRA_USER_CONF_DIRS names the client defaults
# explicitly.
SetEnv %s %s %s%s
`, s.extra, s.Addr, q(s.HostKeyFile), q(filepath.Join(s.Dir, "sshd.pid")), q(filepath.Join(s.Dir, "authorized_keys")),
		q("HOME="+s.Home), q("XPRA_USER_CONF_DIRS="+filepath.Join(s.Home, ".xpra")), q(s.marker), s.pathEnv())
}

// pathEnv is the SetEnv entry of SSHDOptions.Path, or "".
func (s *SSHD) pathEnv() string {
	if s.path == "" {
		return ""
	}
	return " " + strconv.Quote("PATH="+s.path)
}

// sshConfig returns the OpenSSH client configuration for HostAlias.
func (s *SSHD) sshConfig() string {
	q := strconv.Quote
	return fmt.Sprintf(`# ssh_config of perch's sandbox
Host %s
  HostName %s
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  CheckHostIP no
  UpdateHostKeys no
  BatchMode yes
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  ForwardAgent no
  ControlMaster no
  ControlPath none
  ConnectTimeout 10
  LogLevel ERROR
`, s.HostAlias, s.Host, s.Port, s.User, q(s.UserKey), q(s.KnownHosts))
}

// SSHArgs returns the arguments that point the OpenSSH client at this
// server's configuration: `ssh $(SSHArgs) perch-test cmd` works.
func (s *SSHD) SSHArgs() []string { return []string{"-F", s.SSHConfig} }

// Start starts sshd on s.Port (again, after Stop) and returns once it
// accepts connections. It does nothing if sshd runs.
func (s *SSHD) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("the sshd is closed")
	}
	if s.cmd != nil {
		select {
		case <-s.done:
			s.cmd = nil // it died: start it again
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the sshd log: %w", err)
	}
	defer logf.Close()
	start, _ := logf.Seek(0, 2)
	args := []string{"-D", "-e", "-f", s.config}
	cmd := s.command(s.sshd, args...)
	cmd.Env = append(MinimalEnv(), s.marker)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	want := fmt.Sprintf("Server listening on %s port %d.", s.Host, s.Port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		log := logSince(s.Log, start)
		if strings.Contains(log, want) {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			log = logSince(s.Log, start)
			if strings.Contains(log, "Address already in use") || strings.Contains(log, "Cannot bind any address") {
				return fmt.Errorf("sshd cannot listen on %s: %w", s.Addr, errPortTaken)
			}
			return fmt.Errorf("sshd exited at start (%v): %s", cmd.ProcessState, Tail(s.Log))
		case <-ctx.Done():
			s.stopLocked()
			return fmt.Errorf("start sshd: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stopLocked()
			return fmt.Errorf("sshd did not listen on %s within 15s: %s", s.Addr, Tail(s.Log))
		}
	}
}

// logSince returns what a log file gained after offset.
func logSince(path string, offset int64) string {
	b, _ := os.ReadFile(path)
	if int64(len(b)) < offset {
		return string(b)
	}
	return string(b[offset:])
}

// MinimalEnv returns the environment for a server the sandbox starts:
// PATH, locale and TMPDIR, nothing of the test's display or session.
func MinimalEnv() []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, k := range []string{"LANG", "LC_ALL", "TZ", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Stop makes the server go away as if its machine died: it kills the
// listener, so that the port refuses connections, its per-connection
// processes, so that clients lose their links, and every process the
// sessions started. Start starts it again on the same port.
func (s *SSHD) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *SSHD) stopLocked() error {
	var pid int
	if s.cmd != nil {
		pid = s.cmd.Process.Pid
	}
	err := killAll(pid, s.marker)
	if s.cmd != nil {
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			if err == nil {
				err = fmt.Errorf("sshd (pid %d) did not exit within 5s of SIGKILL", pid)
			}
		}
		s.cmd = nil
	}
	return err
}

// Close stops sshd and every session process it started and removes Dir.
// It may be called more than once.
func (s *SSHD) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.stopLocked()
	if s.socketsRef {
		releaseXpraSocketDir()
		s.socketsRef = false
	}
	if rerr := os.RemoveAll(s.Dir); err == nil && rerr != nil {
		err = fmt.Errorf("remove the sshd directory: %w", rerr)
	}
	return err
}

// PID returns the process id of the listening sshd, 0 when it does not run.
func (s *SSHD) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Binary returns the absolute path of the sshd program.
func (s *SSHD) Binary() string { return s.sshd }

// Processes returns the processes of this server and of its sessions that
// still run, found by the marker sshd puts in their environment.
func (s *SSHD) Processes() []int { return proctab.Marked(s.marker) }
