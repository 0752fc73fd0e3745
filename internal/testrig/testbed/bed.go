package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/internal/testrig/faultproxy"
)

// ProxyAlias is the Host entry of a Bed's ProxyConfig.
const ProxyAlias = "proxied"

// BedOptions says what a Bed starts. Screen, Xpras, First and Child are
// StartRemote's arguments.
type BedOptions struct {
	What   string // the servers, for the skip and CI messages: "sshd, xpra and Xvfb"
	Screen string // every Xvfb's screen, "1920x1080x24"
	Xpras  int    // how many xpra servers
	First  int    // the first display number tried for them
	Child  string // the program each xpra server runs, "xeyes"
	// ExtraDisplays is how many more Xvfb (Bed.Extra) to start beside
	// the thin client's, e.g. for a second location.
	ExtraDisplays int
	// Proxy puts a faultproxy in front of sshd (Bed.Proxy), reached
	// through Bed.ProxyConfig.
	Proxy bool
	// Xpra6: the servers and the login's xpra are xpra 6.5.3 (see
	// RemoteOptions.Xpra6); without it built the bed is unavailable.
	Xpra6 bool
	// Programs are Go packages ("./testdata/x11probe", relative to the
	// test's package) built into Dir, for the login user to run; Program
	// gives their paths.
	Programs []string
}

// Bed is a test package's shared real-server bed: a Remote (the thin
// client's Xvfb, an sshd logging in as RemoteUser, xpra servers), a
// private directory and the extras of BedOptions. A package keeps one in a
// variable, takes it with Need in its tests and stops it with Main:
//
//	var shared = testbed.NewBed(testbed.BedOptions{...})
//	func TestMain(m *testing.M) { shared.Main(m) }
//
// The bed starts on the first Need, since xpra servers and clients are
// expensive; DISPLAY and XAUTHORITY then name the thin client's display
// (every bed display of a process shares one cookie).
type Bed struct {
	*Remote
	Dir   string     // private directory (0755: the login user may run what is put there), removed by Close
	Extra []*Display // BedOptions.ExtraDisplays more Xvfb
	// With BedOptions.Proxy: the faultproxy in front of sshd, and an
	// ssh_config whose Host ProxyAlias logs in through it, checking sshd's
	// host key as strictly as the sshd's own ssh_config does.
	Proxy       *faultproxy.Proxy
	ProxyConfig string

	opts BedOptions
	once sync.Once
	err  error
}

// NewBed returns a bed that starts on its first Need.
func NewBed(opts BedOptions) *Bed { return &Bed{opts: opts} }

// Need returns the bed, starting it on first use. When it cannot start,
// the test fails in CI (Unavailable has already ended the run there) and
// skips loudly elsewhere.
func (b *Bed) Need(t testing.TB) *Bed {
	t.Helper()
	SkipShort(t)
	b.once.Do(func() {
		if b.err = b.start(); b.err != nil {
			b.Close()
			Unavailable(b.opts.What, b.err)
		}
	})
	if b.err != nil {
		if InCI() {
			t.Fatalf("test bed: %v", b.err)
		}
		t.Skipf("!!! SKIPPED: the test bed (%s) cannot start here: %v", b.opts.What, b.err)
	}
	return b
}

// Main runs the package's tests, stops the bed and exits with their code.
func (b *Bed) Main(m *testing.M) { Main(m, b) }

// Main runs the package's tests, stops its beds (those started) and exits
// with the tests' code: a package with more than one bed (an xpra 3.1.3
// and an xpra 6.5.3 one) calls it from TestMain.
func Main(m *testing.M, beds ...*Bed) {
	StableEnv()
	code := m.Run()
	for _, b := range beds {
		b.Close()
	}
	os.Exit(code)
}

// Close stops everything the bed started, once; a bed never started has
// nothing to stop.
func (b *Bed) Close() {
	if b.Proxy != nil {
		b.Proxy.Close()
	}
	for _, d := range b.Extra {
		d.Close()
	}
	if b.Remote != nil {
		b.Remote.Close()
	}
	if b.Dir != "" {
		os.RemoveAll(b.Dir)
	}
	b.Proxy, b.Extra, b.Remote, b.Dir = nil, nil, nil, ""
}

func (b *Bed) start() error {
	var err error
	if b.Dir, err = os.MkdirTemp("", "perch-bed-"); err != nil {
		return err
	}
	if err := os.Chmod(b.Dir, 0o755); err != nil {
		return err
	}
	if b.Remote, err = StartRemoteWith(RemoteOptions{Screen: b.opts.Screen, Xpras: b.opts.Xpras, First: b.opts.First,
		Child: b.opts.Child, Xpra6: b.opts.Xpra6}); err != nil {
		return err
	}
	b.Local.Setenv()
	for range b.opts.ExtraDisplays {
		d, err := StartXvfb(b.opts.Screen)
		if err != nil {
			return err
		}
		b.Extra = append(b.Extra, d)
	}
	if b.opts.Proxy {
		if err := b.startProxy(); err != nil {
			return err
		}
	}
	for _, pkg := range b.opts.Programs {
		if out, err := exec.Command("go", "build", "-o", b.Program(path.Base(pkg)), pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// Program is the path of the program built from the package named name
// (the last element of its BedOptions.Programs entry).
func (b *Bed) Program(name string) string { return filepath.Join(b.Dir, name) }

// startProxy starts the faultproxy and writes its known_hosts and
// ssh_config into Dir.
func (b *Bed) startProxy() error {
	var err error
	if b.Proxy, err = faultproxy.New(b.SSHD.Addr); err != nil {
		return err
	}
	s := b.SSHD
	_, port, _ := strings.Cut(b.Proxy.Addr(), ":")
	kh := filepath.Join(b.Dir, "proxied_known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%s %s", port, ssh.MarshalAuthorizedKey(s.HostKey))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		return err
	}
	cfg := fmt.Sprintf("Host %s\n  HostName 127.0.0.1\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n",
		ProxyAlias, port, s.User, s.UserKey, kh)
	b.ProxyConfig = filepath.Join(b.Dir, "proxied_config")
	return os.WriteFile(b.ProxyConfig, []byte(cfg), 0o600)
}
