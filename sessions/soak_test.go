package sessions

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
)

// soakPlan is how many faults of each kind the soak injects.
type soakPlan struct {
	kills        int
	freezes      int // half shorter than the dead-link threshold, half longer
	sshdDown     time.Duration
	xpraRestarts int
	switches     int
}

// The CI run is short; `make soak` (PERCH_SOAK=full) is the soak.
func currentSoakPlan() soakPlan {
	if os.Getenv("PERCH_SOAK") == "full" {
		return soakPlan{kills: 50, freezes: 10, sshdDown: 30 * time.Second, xpraRestarts: 2, switches: 3}
	}
	return soakPlan{kills: 3, freezes: 4, sshdDown: 3 * time.Second, xpraRestarts: 1, switches: 1}
}

func rssKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := slices.Clone(d)
	slices.Sort(c)
	return c[min(len(c)-1, int(p*float64(len(c))))]
}

// TestSoak keeps four sessions attached through repeated faults: kill -9
// of the server-side sshd, freezes shorter and longer than the dead-link
// threshold, sshd stopped and started, an xpra server killed and started,
// and profile switches during a reconnect. After each fault every session
// is attached again with exactly one `xpra attach` per display, and the
// process does not grow in goroutines, descriptors or memory.
func TestSoak(t *testing.T) {
	b := needBed(t)
	plan := currentSoakPlan()
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	interval, count := 400*time.Millisecond, 3
	limit := interval * time.Duration(count)
	displays := b.displays()
	all := displaySpecs(displays)
	l := b.newLink(t, all, func(o *Options) {
		o.Keepalive, o.KeepaliveMax = interval, count
		o.Dial.NetDialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", proxy.Addr())
		}
	})
	run(t, l)
	waitFor(t, l, 60*time.Second, "four attached", allAttached)
	waitRemote(t, displays, 1, 30*time.Second)

	grow := startGrowth(t)
	var recoveries, detections []time.Duration
	reconnects := func() int { return l.Status().Link.Reconnects }
	recovered := func(what string, since time.Time, n int) {
		t.Helper()
		waitFor(t, l, 90*time.Second, what+": all attached again", func(s Status) bool {
			return allAttached(s) && s.Link.Reconnects >= n
		})
		waitRemote(t, displays, 1, 30*time.Second)
		recoveries = append(recoveries, time.Since(since))
		grow.check(t, what)
	}
	killConn := func() {
		pids, err := b.sshd.ConnectionPIDs()
		if err != nil || len(pids) == 0 {
			t.Fatalf("connection pids %v: %v", pids, err)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}

	for i := range plan.kills {
		n := reconnects()
		start := time.Now()
		killConn()
		recovered(fmt.Sprintf("kill %d", i+1), start, n+1)
	}
	for i := range plan.freezes {
		n := reconnects()
		if i%2 == 0 {
			proxy.Freeze()
			time.Sleep(limit / 3)
			proxy.Thaw()
			time.Sleep(limit)
			if got := reconnects(); got != n || l.Status().Link.State != api.LinkUp {
				t.Errorf("short freeze %d caused a reconnect (%d → %d)", i+1, n, got)
			}
			continue
		}
		proxy.Freeze()
		start := time.Now()
		waitFor(t, l, limit+5*time.Second, "freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
		detections = append(detections, time.Since(start))
		proxy.Thaw()
		recovered(fmt.Sprintf("freeze %d", i+1), start, n+1)
	}
	{
		n := reconnects()
		start := time.Now()
		if err := b.sshd.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(plan.sshdDown)
		if st := l.Status(); st.Link.State == api.LinkUp {
			t.Errorf("link up while sshd is stopped")
		}
		if err := b.sshd.Start(); err != nil {
			t.Fatal(err)
		}
		recovered("sshd stopped and started", start, n+1)
	}
	for i := range plan.xpraRestarts {
		x := b.xpras[i%len(b.xpras)]
		name := fmt.Sprintf(":%d", x.Display)
		start := time.Now()
		if err := x.Kill(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, l, 60*time.Second, name+" backing off", func(s Status) bool {
			for _, ss := range s.Sessions {
				if ss.Name == name {
					return ss.State == api.SessionBackoff
				}
			}
			return false
		})
		for _, ss := range l.Status().Sessions {
			if ss.Name != name && ss.State != api.SessionAttached {
				t.Errorf("session %s disturbed by the dead xpra server: %s", ss.Name, ss.State)
			}
		}
		if err := x.Restart(); err != nil {
			t.Fatal(err)
		}
		_ = l.RestartSession(name) // skip the rest of the backoff, as `perch reconnect :N` does
		recovered("xpra "+name+" killed and started", start, 0)
	}
	for i := range plan.switches {
		n := reconnects()
		start := time.Now()
		killConn()
		l.SetSessions(all[:3]) // a profile with one display fewer, during the reconnect
		waitFor(t, l, 60*time.Second, "three attached", func(s Status) bool {
			return allAttached(s) && len(s.Sessions) == 3 && s.Link.Reconnects > n
		})
		waitRemote(t, displays[3:], 0, 30*time.Second)
		l.SetSessions(all)
		recovered(fmt.Sprintf("switch %d during a reconnect", i+1), start, n+1)
	}

	summary := fmt.Sprintf("soak: %d recoveries: median %s, p95 %s, max %s; %d freeze detections (limit %s): %v",
		len(recoveries), percentile(recoveries, 0.5).Round(time.Millisecond), percentile(recoveries, 0.95).Round(time.Millisecond),
		slices.Max(recoveries).Round(time.Millisecond), len(detections), limit, roundAll(detections))
	t.Log(summary)
	if p := os.Getenv("PERCH_SOAK_REPORT"); p != "" {
		_ = os.WriteFile(p, []byte(summary+"\n"), 0o644)
	}
	for _, d := range detections {
		if d > limit+time.Second {
			t.Errorf("a freeze was noticed after %s, over the %s limit + 1 s", d, limit)
		}
	}
}

func roundAll(d []time.Duration) []string {
	var s []string
	for _, x := range d {
		s = append(s, x.Round(time.Millisecond).String())
	}
	return s
}
