// Package testbed starts the real servers perch's tests and benchmarks run
// against, on top of internal/sandbox (Xorg with the dummy driver, an
// OpenSSH sshd with throwaway keys, xpra servers), and adds what only tests
// need: Xvfb, an sshd in a network namespace, faults (killed connections,
// stopped servers) and process counts. A test package shares one bed
// through TestMain.
//
// Outside CI a missing server makes the integration tests skip with a loud
// message; in CI (CI=true) it is a failure, so a missing install step can
// never pass unnoticed.
package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/perchdesk/perch/internal/sandbox"
)

// InCI reports whether the tests run in CI, where integration tests must run.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable is what a TestMain calls when the bed cannot start: in CI it
// prints the reason and exits 1; elsewhere it prints a loud warning and
// returns, and the tests that need the bed skip.
func Unavailable(what string, err error) {
	if InCI() {
		fmt.Fprintf(os.Stderr, "FATAL: CI=true but the test bed's %s cannot start: %v\n", what, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "\n!!!!!!!!\n!!! SKIPPING the integration tests that need %s: %v\n"+
		"!!! run `make deps` (as root) to install the servers, or see README.md\n!!!!!!!!\n\n", what, err)
}

// Display is a running X server.
type Display = sandbox.Display

// XorgOptions tunes StartXorg.
type XorgOptions = sandbox.XorgOptions

// HostAlias is the Host entry of every SSHD's ssh_config.
const HostAlias = sandbox.HostAlias

// StartXorg starts Xorg with the dummy driver on a free display.
func StartXorg(opts XorgOptions) (*Display, error) {
	return sandbox.StartXorg(context.Background(), opts)
}

// StartXvfb starts Xvfb with one screen of the given size ("1920x1080x24")
// and any extra server options (e.g. "-extension", "MIT-SHM").
func StartXvfb(screen string, extra ...string) (*Display, error) {
	xvfb, err := findBinary("Xvfb")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "perch-xvfb-")
	if err != nil {
		return nil, err
	}
	return sandbox.StartX(context.Background(), dir, xvfb, append([]string{"-screen", "0", screen, "-nolisten", "tcp", "-noreset", "+extension", "RANDR"}, extra...)...)
}

// SSHD is a sandbox sshd, possibly in a network namespace.
type SSHD struct {
	*sandbox.SSHD
	Netns *Netns // the network namespace sshd runs in, or nil
}

// SSHDOptions tunes StartSSHDWith; the zero value is StartSSHD's server.
type SSHDOptions struct {
	// Netns runs sshd inside this network namespace, listening on its
	// address NSAddr instead of 127.0.0.1 (the port is still picked free
	// on the host, which is as good as any in a fresh namespace). The
	// sessions' commands and sshd's X11 forwarding listeners (localhost:6200
	// and up) are then inside the namespace too; xpra's sockets are unix
	// sockets in the file system and stay reachable from there.
	Netns *Netns
	// User is the login user; "" is the current one. Another user (such
	// as TestUser) is created with useradd when missing, which needs root.
	User string
	// Path is the sessions' PATH and Config sshd_config lines that win
	// over the bed's (see sandbox.SSHDOptions).
	Path, Config string
}

// TestUser is the unprivileged account the test beds log in as when they
// run as root (RemoteUser): as for a real user, sshd then runs the
// sessions with privilege separation and can signal them.
const TestUser = "perchtest"

// RemoteUser is the login user of the test beds: $PERCH_TEST_REMOTE_USER
// when set ("root" for the root login), else TestUser when running as
// root, else the current user ("").
func RemoteUser() string {
	if u := os.Getenv("PERCH_TEST_REMOTE_USER"); u != "" {
		if u == "root" && os.Getuid() == 0 {
			return ""
		}
		return u
	}
	if os.Getuid() == 0 {
		return TestUser
	}
	return ""
}

// StartSSHD starts an sshd on a free port of 127.0.0.1 with fresh host and
// user keys, and returns once it accepts connections.
func StartSSHD() (*SSHD, error) { return StartSSHDWith(SSHDOptions{}) }

// StartSSHDWith is StartSSHD with options.
func StartSSHDWith(opts SSHDOptions) (*SSHD, error) {
	so := sandbox.SSHDOptions{User: opts.User, Path: opts.Path, Config: opts.Config}
	if opts.Netns != nil {
		so.Host, so.Command = opts.Netns.NSAddr, opts.Netns.Command
	}
	s, err := sandbox.StartSSHD(context.Background(), so)
	if err != nil {
		return nil, err
	}
	return &SSHD{SSHD: s, Netns: opts.Netns}, nil
}

// Start starts sshd again after Stop, on the same port.
func (s *SSHD) Start() error { return s.SSHD.Start(context.Background()) }

// Xpra is a sandbox xpra server.
type Xpra struct{ *sandbox.Xpra }

// StartXpra starts `xpra start :display` running child (e.g. "xeyes") and
// returns once `xpra attach :display` can connect, also for the beds'
// login user (RemoteUser) when that is another one.
func StartXpra(display int, child string) (*Xpra, error) { return StartXpraWith(display, child, "") }

// StartXpraWith is StartXpra with the xpra binary to run ("": the one on
// PATH; Xpra6's for xpra 6.5.3).
func StartXpraWith(display int, child, binary string) (*Xpra, error) {
	x, err := sandbox.StartXpraWith(context.Background(), display, child, sandbox.XpraOptions{OtherUsers: RemoteUser() != "", Binary: binary})
	if err != nil {
		return nil, err
	}
	return &Xpra{x}, nil
}

// Restart starts the server again on the same display (killing it first
// if it still runs) and waits until it is ready.
func (x *Xpra) Restart() error { return x.Xpra.Restart(context.Background()) }

// FreeDisplay returns a display number ≥ from that no other server or
// test process uses (see sandbox.FreeDisplay).
func FreeDisplay(from int) int { return sandbox.FreeDisplay(from) }

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// ErrNoDisplay is returned by helpers called on a bed without a server.
var ErrNoDisplay = errors.New("no test display")

func findBinary(names ...string) (string, error) { return sandbox.FindBinary(names...) }

func tail(path string) string { return sandbox.Tail(path) }

// NeedRoot is for a test that can only run as root: elsewhere it skips
// loudly, but under CI=true (where the tests run as root) it fails.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatalf("CI=true but not root: %s", why)
	}
	t.Skipf("!!! SKIPPED: not root: %s", why)
}

// SkipShort skips an integration test (real servers, real clients) under
// -short: `make unit` is the fast layer; `make test` runs everything.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: an integration test on real servers (make test runs it)")
	}
}
