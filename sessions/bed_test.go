package sessions

// The package's shared test bed: one OpenSSH sshd, four xpra servers
// running xeyes, and an Xvfb standing for the thin client's display. It is
// started on first use and stopped by TestMain.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

type testBed struct {
	remote *testbed.Remote
	local  *testbed.Display // the thin client's display
	sshd   *testbed.SSHD
	xpras  []*testbed.Xpra
	probe  string // the x11probe binary
}

// shared is the package's bed, with x11probe built for the sessions' user
// (testbed.RemoteUser) to run.
var shared = testbed.NewBed(testbed.BedOptions{
	What: "sshd, xpra and Xvfb", Screen: "1920x1080x24", Xpras: 4, First: 20, Child: "xeyes",
	Programs: []string{"./testdata/x11probe"},
})

func TestMain(m *testing.M) { testbed.Main(m, shared, shared6) }

// needBed returns the shared bed, starting it on first use. Outside CI a
// missing server skips loudly; in CI it fails.
func needBed(t *testing.T) *testBed {
	t.Helper()
	b := shared.Need(t)
	b.Local.Setenv() // the xpra 6.5.3 bed (shared6) may have taken DISPLAY
	return &testBed{remote: b.Remote, local: b.Local, sshd: b.SSHD, xpras: b.Xpras, probe: b.Program("x11probe")}
}

func (b *testBed) target(t *testing.T) *sshconf.Target {
	t.Helper()
	tg, err := sshconf.Resolve(b.sshd.HostAlias, []string{b.sshd.SSHConfig})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func (b *testBed) displays() []int { return b.remote.Displays() }

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newLink makes a link to the bed's sshd with fast keepalives.
func (b *testBed) newLink(t *testing.T, specs []Spec, opts func(*Options)) *Link {
	t.Helper()
	x11, err := x11fwd.FindLocal(b.local.Name)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Server: "bed", Target: b.target(t), Dial: sshdial.Options{Policy: "strict"},
		Keepalive: 400 * time.Millisecond, KeepaliveMax: 3, X11: x11, Log: testLogger(t),
		StopTimeout: 2 * time.Second,
	}
	if opts != nil {
		opts(&o)
	}
	l := New(o)
	l.SetSessions(specs)
	return l
}

// run starts l.Run in the background; the returned stop cancels it and
// waits for it to return.
func run(t *testing.T, l *Link) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("Run did not return within 20s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond (cheaply, every 50 ms) until it holds or the timeout
// passes; it reports the last status on failure.
func waitFor(t *testing.T, l *Link, timeout time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := l.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; status: %+v", timeout, what, st)
		}
		select {
		case <-l.Changes():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func allAttached(st Status) bool {
	if st.Link.State != api.LinkUp || len(st.Sessions) == 0 {
		return false
	}
	for _, s := range st.Sessions {
		if s.State != api.SessionAttached {
			return false
		}
	}
	return true
}

// windowTitles lists the names of the windows on the local display.
func windowTitles(t *testing.T, d *testbed.Display) []string {
	t.Helper()
	names, err := d.WindowNames()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func countTitles(names []string, sub string) int {
	n := 0
	for _, s := range names {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// remoteAttaches counts `xpra attach :N` processes on the server.
func remoteAttaches(t *testing.T, d int) int {
	t.Helper()
	n, err := testbed.ProcessCount(fmt.Sprintf("xpra attach :%d", d))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitRemote waits until every display has exactly want `xpra attach`.
func waitRemote(t *testing.T, displays []int, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var counts []int
		ok := true
		for _, d := range displays {
			n := remoteAttaches(t, d)
			counts = append(counts, n)
			ok = ok && n == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("xpra attach per display %v = %v after %s, want %d each", displays, counts, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
