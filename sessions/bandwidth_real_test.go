package sessions

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/bwlimit"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/xpraclient"
)

// buildAnimator builds the benchmark's animation (a 640x480 window
// repainted 30 times a second) where the bed's xpra servers can run it.
func buildAnimator(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "perch-anim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "animator")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/perchdesk/perch/scripts/bench/animator").CombinedOutput(); err != nil {
		t.Fatalf("build the animator: %v\n%s", err, out)
	}
	return bin
}

// TestLocalBandwidth: a local client shows an animation; the link then
// becomes slower than the picture (tc tbf, linkRate both ways). The link
// finds itself full, sets the local clients' bandwidth limit below what
// it carried and restarts the client with it (not counted as a restart);
// then the keepalives come back on time again: the screen is live, where
// without the limit replies queue for seconds behind the picture.
func TestLocalBandwidth(t *testing.T) {
	// 3 Mbit/s: the picture overfills it even while the machine is too
	// busy to encode 5 Mbit/s of it (a busy 2-core machine did not fill 5
	// within a minute once in 20 runs).
	const linkRate = 3_000_000
	b := needBed(t)
	ns, sshd := needNetnsSSHD(t)
	x, err := testbed.StartXpra(testbed.FreeDisplay(70), "env ANIM_KEYLOG=/dev/null "+buildAnimator(t))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	tg, err := sshconf.Resolve(sshd.HostAlias, []string{sshd.SSHConfig})
	if err != nil {
		t.Fatal(err)
	}
	l := b.newLink(t, []Spec{LocalDisplaySpec(x.Display, localArgs, "")}, func(o *Options) {
		o.Target, o.X11 = tg, nil
		o.Keepalive, o.KeepaliveMax = time.Second, 10
	})
	stop := run(t, l)
	defer stop()
	waitFor(t, l, 60*time.Second, "attached", allAttached)
	deadline := time.Now().Add(30 * time.Second)
	for countTitles(windowTitles(t, b.local), "perch-anim") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no animation on the local display: %q", windowTitles(t, b.local))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := l.Status().Link; st.XpraLimit != 0 {
		t.Fatalf("a limit on the open link: %+v", st)
	}

	if err := ns.Shape(fmt.Sprintf("%dkbit", linkRate/1000)); err != nil {
		t.Fatal(err)
	}
	defer ns.Shape("")
	st := waitFor(t, l, 60*time.Second, "the link found full", func(s Status) bool { return s.Link.XpraLimit > 0 })
	setAt := time.Now()
	limit, carried := st.Link.XpraLimit, st.Link.Carried
	t.Logf("limit %s, the link carried %s", bwlimit.Mbit(limit), bwlimit.Mbit(carried))
	// What it measures right after the slowdown can run up to about 1.4x
	// the link's rate (6.6-7.3 Mbit/s seen here for 5): TCP's recovery
	// delivers held-back segments in bursts. The limit then still makes
	// the screen live, which is checked below.
	if carried > linkRate*8/5 || carried < linkRate/3 || limit != bwlimit.For(carried) {
		t.Errorf("limit %s for %s carried on a %s link", bwlimit.Mbit(limit), bwlimit.Mbit(carried), bwlimit.Mbit(linkRate))
	}
	st = waitFor(t, l, 60*time.Second, "attached again with the limit", func(s Status) bool {
		return allAttached(s) && s.Sessions[0].Since.After(setAt)
	})
	if s := st.Sessions[0]; s.Restarts != 0 || s.LastError != "" {
		t.Errorf("session after the limit: %+v", s)
	}
	if n, err := testbed.ProcessCount(fmt.Sprintf("--bandwidth-limit=%d", st.Link.XpraLimit)); err != nil || n != 1 {
		t.Errorf("%d local clients with the limit on their command line (%v)", n, err)
	}

	// Live: five keepalives in a row answered within 500 ms (they queued
	// for over bwQueued before the limit).
	deadline, onTime := time.Now().Add(60*time.Second), 0
	for onTime < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("keepalives still late a minute after the limit: last round trip %s", time.Duration(l.Status().Link.RTT))
		}
		time.Sleep(time.Second) // one keepalive interval: a new round trip
		if rtt := time.Duration(l.Status().Link.RTT); rtt > 0 && rtt <= 500*time.Millisecond {
			onTime++
		} else {
			onTime = 0
		}
	}
	// The keepalives on time are what says the screen is live again (a
	// full link queues them for seconds). The picture must still flow
	// with the limit: how many frames a second is up to the machine's
	// CPU (11-12 alone at 5 Mbit/s, 2-4 with every core busy), so the
	// floor is one.
	c, err := b.local.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if fps := animFPS(t, c.X(), 10*time.Second); fps < 1 {
		t.Errorf("%.1f frames/s reach the local screen with the limit, want 1 or more", fps)
	} else {
		t.Logf("%.1f frames/s with the limit", fps)
	}
	if st := l.Status(); st.Link.XpraLimit == 0 || st.Link.XpraLimit > limit || st.Sessions[0].Restarts != 0 {
		t.Errorf("after the link settled: %+v", st)
	}
}

// TestLocalAttachTimeout: a local client that never gets attached is
// stopped after localAttachTimeout and the session backs off saying so,
// with what the client printed.
func TestLocalAttachTimeout(t *testing.T) {
	b := needBed(t)
	fake := filepath.Join(t.TempDir(), "xpra")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n[ \"$1\" = --version ] && { echo xpra v3.1.3; exit 0; }\necho 'connecting to the server...'\nexec sleep 6013\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	oldBin, oldTimeout := xpraclient.Binary, localAttachTimeout
	xpraclient.Binary, localAttachTimeout = fake, 2*time.Second
	defer func() { xpraclient.Binary, localAttachTimeout = oldBin, oldTimeout }()
	l := b.newLink(t, localSpecs(b.displays()[:1], ""), func(o *Options) { o.X11 = nil })
	stop := run(t, l)
	defer stop()
	st := waitFor(t, l, 30*time.Second, "backing off", func(s Status) bool { return s.Sessions[0].State == api.SessionBackoff })
	want := "the local xpra did not attach within 2s: its last words: connecting to the server..."
	if e := st.Sessions[0].LastError; !strings.Contains(e, want) {
		t.Errorf("last error %q, want %q", e, want)
	}
	if n, err := testbed.ProcessCount("sleep 6013"); err != nil || n != 0 {
		t.Errorf("%d fake clients left running (%v)", n, err)
	}
}

// animFPS counts the animation's frames that reach the screen of x over d
// (a new frame number read from its window).
func animFPS(t *testing.T, x *xgb.Conn, d time.Duration) float64 {
	t.Helper()
	start, count := time.Now(), testbed.NewFrameCounter()
	for time.Since(start) < d {
		win := testbed.AnimWindow(x)
		if win == 0 {
			t.Fatal("no animation on the local screen")
		}
		n, err := testbed.AnimFrame(x, win)
		if err != nil {
			t.Fatal(err)
		}
		count.Add(n)
		time.Sleep(5 * time.Millisecond) // the animation's 30 frames/s, sampled
	}
	return float64(count.Seen) / time.Since(start).Seconds()
}
