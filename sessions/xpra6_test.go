package sessions

// xpra 6.5.3 on either end: a second bed whose servers and login `xpra`
// are xpra 6.5.3 (testbed.BedOptions.Xpra6), and the compatibility matrix
// against the package's xpra 3.1.3 bed. All servers of this process share
// one socket directory, so either sshd reaches either bed's displays; the
// login's `xpra` (remote mode's client, and the version perch learns) is
// 3.1.3 through shared's sshd and 6.5.3 through shared6's.

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/x11fwd"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// shared6 is the package's xpra 6.5.3 bed.
var shared6 = testbed.NewBed(testbed.BedOptions{
	What: "sshd, xpra 6.5.3 and Xvfb", Screen: "1920x1080x24", Xpras: 2, First: 60, Child: "xeyes", Xpra6: true,
})

func needBed6(t *testing.T) *testBed {
	t.Helper()
	b := shared6.Need(t)
	b.Local.Setenv()
	return &testBed{remote: b.Remote, local: b.Local, sshd: b.SSHD, xpras: b.Xpras}
}

// withLocalXpra makes bin the local xpra for the rest of the test.
func withLocalXpra(t *testing.T, bin string) {
	old := xpraclient.Binary
	xpraclient.Binary = bin
	t.Cleanup(func() { xpraclient.Binary = old })
}

// attachWatch records whether a session was ever attached, at every
// change of the link's status until stopped; with Timings.FirstX11 (set
// only when attached) it shows that a failing client never looked attached.
type attachWatch struct {
	mu   sync.Mutex
	seen bool
	stop chan struct{}
	done chan struct{}
}

func watchAttached(l *Link) *attachWatch {
	w := &attachWatch{stop: make(chan struct{}), done: make(chan struct{})}
	scan := func() {
		for _, s := range l.Status().Sessions {
			if s.State == api.SessionAttached || s.Timings.FirstX11 != 0 {
				w.mu.Lock()
				w.seen = true
				w.mu.Unlock()
			}
		}
	}
	go func() {
		defer close(w.done)
		for {
			scan()
			select {
			case <-w.stop:
				scan() // what happened since the last look
				return
			case <-l.Changes():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *attachWatch) ever() bool {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// matrixCell runs one cell: display d of a server reached through via's
// sshd, in remote mode (local == "") or with the local xpra local. A cell
// that attaches shows the display's window; one that fails backs off
// twice, never looking attached, with an error that says every string of
// refusal. server and client are the versions the status must name.
func matrixCell(t *testing.T, via, screen *testBed, d int, local string, refusal []string, server, client string) {
	spec := DisplaySpec(d)
	if local != "" {
		withLocalXpra(t, local)
		spec = LocalDisplaySpec(d, localArgs, "")
	}
	l := via.newLink(t, []Spec{spec}, func(o *Options) {
		x11, err := x11fwd.FindLocal(screen.local.Name)
		if err != nil {
			t.Fatal(err)
		}
		o.X11 = x11
	})
	w := watchAttached(l)
	stop := run(t, l)
	defer stop()
	if refusal == nil {
		st := waitFor(t, l, 60*time.Second, "attached", allAttached)
		waitWindows(t, screen, 1)
		checkVersions(t, st, server, client)
		if !w.ever() {
			t.Error("the watch never saw it attached")
		}
		return
	}
	st := waitFor(t, l, 90*time.Second, "refused twice", func(s Status) bool {
		return len(s.Sessions) == 1 && s.Sessions[0].Restarts >= 2 && s.Sessions[0].State == api.SessionBackoff
	})
	if w.ever() {
		t.Errorf("a failing client looked attached: %+v", st.Sessions[0])
	}
	e := st.Sessions[0].LastError
	t.Logf("last error: %s", e)
	for _, want := range refusal {
		if !strings.Contains(e, want) {
			t.Errorf("last error %q does not say %q", e, want)
		}
	}
	for _, noise := range []string{"cups", "printing", "packets"} {
		if strings.Contains(e, noise) {
			t.Errorf("last error %q carries xpra's noise %q", e, noise)
		}
	}
	checkVersions(t, st, server, client)
}

func checkVersions(t *testing.T, st Status, server, client string) {
	t.Helper()
	if st.Link.XpraServer != server || st.Link.XpraLocal != client {
		t.Errorf("status names xpra %q on the server and %q here, want %q and %q", st.Link.XpraServer, st.Link.XpraLocal, server, client)
	}
}

// TestXpraMatrix: each cell a real server, client and sshd under the
// bed's login user (unprivileged when run as root).
//
//	| server xpra | remote mode | local 3.1.3 | local 6.5.3 |
//	| 3.1.3       | attached    | attached    | refused     |
//	| 6.5.3       | attached    | refused     | attached    |
//
// plus remote mode with the login's 3.1.3 `xpra attach` against a 6.5.3
// server (the case: it used to show attached between tries).
func TestXpraMatrix(t *testing.T) {
	b3, b6 := needBed(t), needBed6(t)
	bin6, err := testbed.Xpra6()
	if err != nil {
		t.Fatal(err)
	}
	bin3 := "/usr/bin/xpra"
	d3, d6 := b3.displays()[3], b6.displays()[0]
	t.Run("server 3.1.3, remote mode", func(t *testing.T) { matrixCell(t, b3, b3, d3, "", nil, "3.1.3", "") })
	t.Run("server 3.1.3, local 3.1.3", func(t *testing.T) { matrixCell(t, b3, b3, d3, bin3, nil, "3.1.3", "3.1.3") })
	t.Run("server 3.1.3, local 6.5.3", func(t *testing.T) {
		matrixCell(t, b3, b3, d3, bin6, []string{"the local xpra 6.5.3 cannot attach to the server's xpra 3.1.3",
			"install xpra.org's package on the server", `client = "remote"`, "failed to parse bencode packet"}, "3.1.3", "6.5.3")
	})
	t.Run("server 6.5.3, remote mode", func(t *testing.T) { matrixCell(t, b6, b6, d6, "", nil, "6.5.3", "") })
	t.Run("server 6.5.3, local 3.1.3", func(t *testing.T) {
		matrixCell(t, b6, b6, d6, bin3, []string{"the local xpra 3.1.3 cannot attach to the server's xpra 6.5.3",
			"4.3 or later", "Debian 12's is 3.1.3", `client = "remote"`, "zlib is not available"}, "6.5.3", "3.1.3")
	})
	t.Run("server 6.5.3, local 6.5.3", func(t *testing.T) { matrixCell(t, b6, b6, d6, bin6, nil, "6.5.3", "6.5.3") })
	t.Run("server 6.5.3, remote mode with the login's 3.1.3", func(t *testing.T) {
		matrixCell(t, b3, b6, d6, "", []string{"an xpra 6.x server needs a client of 4.3 or later", "zlib is not available"}, "3.1.3", "")
	})
}

// TestXpra6DropsIdleSockets: the 6.5.3 server really closes a unix
// connection that sends nothing (so a channel opened before its client is
// ready fails), and local mode attaches to it all the same.
func TestXpra6DropsIdleSockets(t *testing.T) {
	b := needBed6(t)
	c, err := net.Dial("unix", b.xpras[1].Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if held := time.Since(start); err == nil || held > 5*time.Second {
		t.Fatalf("an idle connection to the 6.5.3 server: read %v after %v; want it closed within seconds", err, held)
	} else {
		t.Logf("the 6.5.3 server closed an idle connection after %v (%v)", held.Round(time.Millisecond), err)
	}
	bin6, _ := testbed.Xpra6()
	withLocalXpra(t, bin6)
	l := b.newLink(t, localSpecs([]int{b.xpras[1].Display}, ""), func(o *Options) { o.X11 = nil })
	run(t, l)
	waitFor(t, l, 60*time.Second, "attached", allAttached)
}
