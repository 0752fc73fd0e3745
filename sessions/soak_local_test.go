package sessions

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/faultproxy"
)

// TestSoakLocal runs the soak's kill and freeze rounds with local
// sessions (client = "local"): after each fault every session is attached
// again with exactly one local xpra client per display, and the process
// does not grow. The CI run is short (two displays, few rounds);
// PERCH_SOAK=full takes the full soak's counts.
func TestSoakLocal(t *testing.T) {
	b := needBed(t)
	plan := currentSoakPlan()
	displays := b.displays()[:2]
	if os.Getenv("PERCH_SOAK") == "full" {
		displays = b.displays()
	} else {
		plan.kills, plan.freezes = 2, 2
	}
	proxy, err := faultproxy.New(b.sshd.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	interval, count := 400*time.Millisecond, 3
	limit := interval * time.Duration(count)
	l := b.newLink(t, localSpecs(displays, "soak"), func(o *Options) {
		o.X11 = nil
		o.Keepalive, o.KeepaliveMax = interval, count
		o.Dial.NetDialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", proxy.Addr())
		}
	})
	run(t, l)
	waitFor(t, l, 60*time.Second, "local sessions attached", allAttached)
	waitLocalClients(t, len(displays), 20*time.Second)

	grow := startGrowth(t)
	restarts := 0
	var recoveries []time.Duration
	recovered := func(what string, since time.Time, n int) {
		t.Helper()
		restarts++
		waitFor(t, l, 90*time.Second, what+": all attached again", func(s Status) bool {
			return allAttached(s) && s.Link.Reconnects >= n && restartedAll(s, restarts)
		})
		waitLocalClients(t, len(displays), 30*time.Second)
		waitRemote(t, displays, 0, time.Second)
		recoveries = append(recoveries, time.Since(since))
		grow.check(t, what)
	}
	for i := range plan.kills {
		n := l.Status().Link.Reconnects
		start := time.Now()
		pids, err := b.sshd.ConnectionPIDs()
		if err != nil || len(pids) == 0 {
			t.Fatalf("connection pids %v: %v", pids, err)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		recovered(fmt.Sprintf("kill %d", i+1), start, n+1)
	}
	for i := range plan.freezes {
		n := l.Status().Link.Reconnects
		if i%2 == 0 {
			proxy.Freeze()
			time.Sleep(limit / 3)
			proxy.Thaw()
			time.Sleep(limit)
			if st := l.Status(); st.Link.Reconnects != n || !allAttached(st) {
				t.Errorf("short freeze %d disturbed the link or a session: %+v", i+1, st)
			}
			continue
		}
		proxy.Freeze()
		start := time.Now()
		waitFor(t, l, limit+5*time.Second, "freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
		proxy.Thaw()
		recovered(fmt.Sprintf("freeze %d", i+1), start, n+1)
	}
	t.Logf("local soak: %d recoveries: median %s, max %s", len(recoveries),
		percentile(recoveries, 0.5).Round(time.Millisecond), percentile(recoveries, 1).Round(time.Millisecond))
}
