package sessions

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/sys/proctab"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// localArgs keep the test's local xpra clients cheap and quiet: xpra 3.1
// reads no ~/.xpra for root, so the bed's client defaults are options here.
var localArgs = []string{
	"--opengl=no", "--speaker=no", "--microphone=no", "--av-sync=no", "--tray=no", "--delay-tray=no",
	"--system-tray=no", "--notifications=no", "--webcam=no", "--printing=no", "--file-transfer=no",
	"--open-files=no", "--open-url=no", "--mdns=no", "--bell=no", "--clipboard=no", "--pulseaudio=no",
}

func localSpecs(ds []int, identity string) []Spec {
	var specs []Spec
	for _, d := range ds {
		specs = append(specs, LocalDisplaySpec(d, localArgs, identity))
	}
	return specs
}

// localClients counts this machine's `xpra attach socket://` processes.
func localClients(t *testing.T) int {
	t.Helper()
	// This test process's own clients: other tests on the machine run
	// local clients too.
	procs, err := proctab.Read()
	if err != nil {
		t.Fatal(err)
	}
	return testbed.CountMatching(procs.Descendants(os.Getpid()), "xpra attach socket://")
}

func waitLocalClients(t *testing.T, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for localClients(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d local xpra clients after %s, want %d", localClients(t), timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitWindows waits until the local display shows want xeyes windows.
func waitWindows(t *testing.T, b *testBed, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for countTitles(windowTitles(t, b.local), "xeyes") != want {
		if time.Now().After(deadline) {
			t.Fatalf("windows on the local display: %q; want %d xeyes", windowTitles(t, b.local), want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// restartedAll: every session restarted at least n times.
func restartedAll(st Status, n int) bool {
	for _, s := range st.Sessions {
		if s.Restarts < n {
			return false
		}
	}
	return true
}

// privateSockets lists the local sessions' socket directories.
func privateSockets(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(xpraclient.RuntimeDir(), "perch-local-xpra-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ownPrivateSockets are the private socket directories this test
// process's own local clients use (their command lines name them): other
// test processes on the machine make theirs in the same directory.
func ownPrivateSockets(t *testing.T) []string {
	t.Helper()
	procs, err := proctab.Read()
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, d := range privateSockets(t) {
		if testbed.CountMatching(procs.Descendants(os.Getpid()), "socket://"+d+"/") > 0 {
			own = append(own, d)
		}
	}
	return own
}

// TestLocalDisplays: client = "local" attaches each display with a local
// xpra client through a streamlocal channel (no remote `xpra attach`, no
// X11 forwarding), every window reaches the local screen through private
// unix sockets, and a killed server-side sshd and a frozen link are
// recovered as in remote mode.
func TestLocalDisplays(t *testing.T) {
	b := needBed(t)
	displays := b.displays()[:2]
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	interval, count := 400*time.Millisecond, 3
	l := b.newLink(t, localSpecs(displays, ""), func(o *Options) {
		o.X11 = nil // no X11 forwarding at all: the display comes from DISPLAY
		o.Keepalive, o.KeepaliveMax = interval, count
		o.Dial.NetDialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", proxy.Addr())
		}
	})
	stop := run(t, l)
	st := waitFor(t, l, 60*time.Second, "local displays attached", allAttached)
	for _, s := range st.Sessions {
		if s.Timings.FirstX11 <= 0 || s.Timings.Start <= 0 || s.Restarts != 0 || !strings.Contains(s.Command, "(local)") {
			t.Errorf("session %+v", s)
		}
	}
	t.Logf("start %v, attached after %v", time.Duration(st.Sessions[0].Timings.Start), time.Duration(st.Sessions[0].Timings.FirstX11))
	waitWindows(t, b, len(displays))
	waitRemote(t, displays, 0, time.Second)
	waitLocalClients(t, len(displays), 10*time.Second)
	socks := ownPrivateSockets(t)
	if len(socks) != len(displays) {
		t.Errorf("private socket directories of this test's clients %q, want %d", socks, len(displays))
	}
	for _, d := range socks {
		di, err1 := os.Stat(d)
		si, err2 := os.Stat(filepath.Join(d, "socket"))
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %v %v", d, err1, err2)
			continue
		}
		if di.Mode().Perm() != 0o700 || si.Mode().Perm() != 0o600 || si.Mode()&os.ModeSocket == 0 {
			t.Errorf("%s is %v, its socket %v; want 0700 and a 0600 socket", d, di.Mode(), si.Mode())
		}
	}

	t.Run("kill -9 the server-side sshd", func(t *testing.T) {
		n := l.Status().Link.Reconnects
		pids, err := b.sshd.ConnectionPIDs()
		if err != nil || len(pids) == 0 {
			t.Fatalf("connection pids %v: %v", pids, err)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		waitFor(t, l, 60*time.Second, "all back", func(s Status) bool { return allAttached(s) && s.Link.Reconnects > n && restartedAll(s, 1) })
		waitLocalClients(t, len(displays), 20*time.Second)
		waitWindows(t, b, len(displays))
	})
	t.Run("frozen link", func(t *testing.T) {
		n := l.Status().Link.Reconnects
		proxy.Freeze()
		waitFor(t, l, 10*time.Second, "the freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
		proxy.Thaw()
		waitFor(t, l, 60*time.Second, "all back", func(s Status) bool { return allAttached(s) && s.Link.Reconnects > n && restartedAll(s, 2) })
		waitLocalClients(t, len(displays), 20*time.Second)
		waitWindows(t, b, len(displays))
	})

	ownAtEnd := ownPrivateSockets(t)
	stop()
	for _, s := range l.Status().Sessions {
		if s.State != api.SessionStopped {
			t.Errorf("session %s is %s after stop", s.Name, s.State)
		}
	}
	waitLocalClients(t, 0, 15*time.Second)
	// Every directory the clients used is gone (those of the last
	// reconnect, and the first ones).
	for _, d := range append(ownAtEnd, socks...) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("private socket directory %s left after stop", d)
		}
	}
}

// TestLocalErrors: a display with no socket on the server and a thin
// client without xpra back off with messages that say so, beside a good
// display that stays attached.
func TestLocalErrors(t *testing.T) {
	b := needBed(t)
	good, missing := b.displays()[0], testbed.FreeDisplay(90)
	l := b.newLink(t, localSpecs([]int{good, missing}, ""), func(o *Options) { o.X11 = nil })
	stop := run(t, l)
	st := waitFor(t, l, 60*time.Second, "good attached, missing backing off", func(s Status) bool {
		return len(s.Sessions) == 2 && s.Sessions[0].State == api.SessionAttached && s.Sessions[1].Restarts >= 1
	})
	if e := st.Sessions[1].LastError; !strings.Contains(e, fmt.Sprintf("display :%d has no xpra socket on the server", missing)) {
		t.Errorf("missing display: %q", e)
	}

	stop()
	old := xpraclient.Binary
	xpraclient.Binary = filepath.Join(t.TempDir(), "xpra")
	defer func() { xpraclient.Binary = old }()
	l2 := b.newLink(t, localSpecs([]int{good}, ""), func(o *Options) { o.X11 = nil })
	run(t, l2)
	st = waitFor(t, l2, 30*time.Second, "no local xpra", func(s Status) bool {
		return len(s.Sessions) == 1 && s.Sessions[0].State == api.SessionBackoff
	})
	if e := st.Sessions[0].LastError; !strings.Contains(e, "install the Debian package xpra") {
		t.Errorf("no local xpra: %q", e)
	}
}

// TestLocalIdentity: two local clients of one display with sharing on
// share it when their identities (locations) differ; with the same
// identity the newer one disconnects the older, as xpra does for one user
// on one machine.
func TestLocalIdentity(t *testing.T) {
	b := needBed(t)
	x := b.xpras[1]
	share := append(slices.Clone(localArgs), "--sharing=yes")
	serverLog := func(from int64) string {
		data, err := os.ReadFile(x.Log)
		if err != nil {
			t.Fatal(err)
		}
		return string(data[min(from, int64(len(data))):])
	}
	attachAs := func(identity string) (*Link, func()) {
		l := b.newLink(t, []Spec{LocalDisplaySpec(x.Display, share, identity)}, func(o *Options) { o.X11 = nil })
		stop := run(t, l)
		waitFor(t, l, 60*time.Second, identity+" attached", allAttached)
		return l, stop
	}
	offset := int64(len(serverLog(0)))
	desk, stopDesk := attachAs("desk")
	_, stopSofa := attachAs("sofa")
	if log := serverLog(offset); !strings.Contains(log, "sharing with 1 other client") || strings.Contains(log, "same uuid") {
		t.Errorf("desk and sofa do not share the display; the server said:\n%s", log)
	}
	if st := desk.Status().Sessions[0]; st.State != api.SessionAttached || st.Restarts != 0 {
		t.Errorf("desk after sofa attached: %+v", st)
	}
	stopSofa()
	offset = int64(len(serverLog(0)))
	_, stopDesk2 := attachAs("desk")
	if log := serverLog(offset); !strings.Contains(log, "new connection from the same uuid") {
		t.Errorf("a second desk client did not replace the first; the server said:\n%s", log)
	}
	stopDesk2()
	stopDesk()
}

// TestLocalXpraSays: when the local xpra gives up, the session backs off
// with xpra's own words (here: an option this xpra does not know; a
// refused version pair is TestLocalVersionRefused).
func TestLocalXpraSays(t *testing.T) {
	b := needBed(t)
	args := append(slices.Clone(localArgs), "--no-such-option=1")
	l := b.newLink(t, []Spec{LocalDisplaySpec(b.displays()[0], args, "")}, func(o *Options) { o.X11 = nil })
	run(t, l)
	st := waitFor(t, l, 60*time.Second, "backing off", func(s Status) bool { return s.Sessions[0].Restarts >= 1 })
	if e := st.Sessions[0].LastError; !strings.Contains(e, "the local xpra exited with status 1: ") || !strings.Contains(e, "no such option: --no-such-option") {
		t.Errorf("last error %q", e)
	}
}
