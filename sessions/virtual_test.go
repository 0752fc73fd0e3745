package sessions

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/memssh"
	"github.com/perchdesk/perch/sessions/alive"
	"github.com/perchdesk/perch/sessions/backoff"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// The link's time logic (keepalive, freeze, backoff, network changes) in
// virtual time: testing/synctest against an SSH server in this process
// (memssh), dialled by the real sshdial.Dial (host key checked, key
// offered) over in-memory connections. A test runs in milliseconds and
// cannot flake on a loaded machine: time moves only when every goroutine
// waits.

// memLink makes a link to srv with the keepalive interval and count; dial
// replaces the server's dialer (nil: srv.Dial).
func memLink(t *testing.T, srv *memssh.Server, interval time.Duration, count int,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Link {
	t.Helper()
	kh, id, err := srv.WriteFiles(t.TempDir(), "[mem]:22")
	if err != nil {
		t.Fatal(err)
	}
	if dial == nil {
		dial = srv.Dial
	}
	tg := &sshconf.Target{Alias: "mem", HostName: "mem", Port: 22, User: "perch",
		IdentityFiles: []string{id}, IdentitiesOnly: true, IdentityAgent: "none", KnownHostsFiles: []string{kh}}
	return New(Options{Server: "mem", Target: tg, Dial: sshdial.Options{Policy: "strict", NetDialer: dial},
		Keepalive: interval, KeepaliveMax: count, Log: testLogger(t)})
}

// runVirtual runs l until the returned stop, which also closes srv; it
// must be called before the bubble ends.
func runVirtual(l *Link, srv *memssh.Server) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
		srv.Close()
	}
}

func newMemServer(t *testing.T) *memssh.Server {
	t.Helper()
	srv, err := memssh.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func linkUp(s Status) bool { return s.Link.State == api.LinkUp }

// TestFreezeVirtual: keepalives measure the round trip; a freeze shorter
// than interval × count causes no reconnect; a longer one is noticed once
// the server has been silent for interval × count (no sooner, and no
// later than one keepalive after), and the link is back after the thaw.
func TestFreezeVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		const interval, count = 5 * time.Second, 3
		limit := interval * count
		srv.Net.SetLatency(20 * time.Millisecond)
		l := memLink(t, srv, interval, count, nil)
		// The latest point of the spread before the first retry (the
		// whole window): the bound on coming back below holds for every
		// draw.
		l.opts.rand = func() float64 { return 0.999 }
		stop := runVirtual(l, srv)
		defer stop()
		st := waitFor(t, l, time.Minute, "link up with a round trip", func(s Status) bool { return linkUp(s) && s.Link.RTT > 0 })
		if rtt := time.Duration(st.Link.RTT); rtt < 40*time.Millisecond || rtt > 50*time.Millisecond {
			t.Errorf("round trip %s on a path of 20 ms each way", rtt)
		}

		srv.Net.Freeze()
		time.Sleep(limit - interval)
		srv.Net.Thaw()
		time.Sleep(2 * limit) // virtual: a false detection has every chance
		if st := l.Status(); st.Link.State != api.LinkUp || st.Link.Reconnects != 0 || srv.Dials() != 1 {
			t.Errorf("after a %s freeze: %+v, %d dials", limit-interval, st.Link, srv.Dials())
		}

		srv.Net.Freeze()
		frozen := time.Now()
		waitFor(t, l, 2*limit, "the freeze noticed", func(s Status) bool { return s.Link.State != api.LinkUp })
		if d := time.Since(frozen); d < limit-interval || d > limit+interval {
			t.Errorf("freeze noticed after %s, want between %s and %s", d, limit-interval, limit+interval)
		}
		srv.Net.Thaw()
		thawed := time.Now()
		waitFor(t, l, time.Minute, "link back", func(s Status) bool { return linkUp(s) && s.Link.Reconnects == 1 })
		// The spread's window (2 × Base), then a dial (240 ms here).
		if d, want := time.Since(thawed), 2*backoff.New().Base+300*time.Millisecond; d > want {
			t.Errorf("back %s after the thaw, want at most %s", d, want)
		}
	})
}

// TestSlowServerVirtual: a server whose replies take longer than the
// keepalive interval (but less than interval × count) keeps the link: a
// slow link is not a dead one.
func TestSlowServerVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		l := memLink(t, srv, 5*time.Second, 3, nil)
		stop := runVirtual(l, srv)
		defer stop()
		waitFor(t, l, time.Minute, "link up", linkUp)
		srv.Net.SetLatency(3 * time.Second) // 6 s round trips, keepalive every 5 s
		time.Sleep(5 * time.Minute)
		if st := l.Status(); st.Link.State != api.LinkUp || st.Link.Reconnects != 0 || time.Duration(st.Link.RTT) < 6*time.Second {
			t.Errorf("after 5 minutes of 6 s round trips: %+v", st.Link)
		}
	})
}

// TestAuthRefusedVirtual: a server that refuses the key fails the link
// for good (a typed authentication error, no retry loop); Reconnect tries
// again, and succeeds once the server accepts.
func TestAuthRefusedVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		srv.RefuseAuth(true)
		l := memLink(t, srv, 5*time.Second, 3, nil)
		stop := runVirtual(l, srv)
		defer stop()
		st := waitFor(t, l, time.Minute, "link failed", func(s Status) bool { return s.Link.State == api.LinkFailed })
		if !strings.Contains(st.Link.LastError, "refused authentication") {
			t.Errorf("last error %q", st.Link.LastError)
		}
		time.Sleep(time.Hour)
		if n := srv.Dials(); n != 1 {
			t.Errorf("%d dials in an hour after a refused authentication, want 1", n)
		}
		srv.RefuseAuth(false)
		l.Reconnect()
		waitFor(t, l, time.Minute, "link up after Reconnect", linkUp)
	})
}

// TestBackoffVirtual: connects that fail wait longer and longer (the
// backoff), up to its cap, and the first connect that works resets it.
func TestBackoffVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		var down atomic.Bool
		down.Store(true)
		var at []time.Time
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			at = append(at, time.Now()) // the run loop dials one at a time
			if down.Load() {
				return nil, errors.New("network is unreachable (test)")
			}
			return srv.Dial(ctx, network, addr)
		}
		l := memLink(t, srv, 5*time.Second, 3, dial)
		stop := runVirtual(l, srv)
		defer stop()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if len(at) < 6 || len(at) > 60 {
			t.Fatalf("%d connects in 10 minutes of failures", len(at))
		}
		var waits []time.Duration
		for i := 1; i < len(at); i++ {
			waits = append(waits, at[i].Sub(at[i-1]))
		}
		if waits[0] > 2*time.Second || waits[4] < 2*waits[0] {
			t.Errorf("waits between failed connects %v: want them to grow from about a second", waits)
		}
		last := waits[len(waits)-1]
		if last > 2*time.Minute {
			t.Errorf("a wait of %s: want a cap", last)
		}
		down.Store(false)
		waitFor(t, l, 2*last, "link up after the outage", linkUp)
	})
}

// TestNetworkChangedVirtual: a link waiting out its backoff after failed
// connects tries again as soon as it hears that the network changed, and
// a TCP connect hanging on the old network is started over; an up link
// ignores the news.
func TestNetworkChangedVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		const (
			fail = iota // the network is down: connects fail at once
			hang        // connects hang (a SYN nobody answers)
			up
		)
		var mode, dials atomic.Int64
		var last time.Time // of the last dial: the run loop dials one at a time
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			last = time.Now()
			switch mode.Load() {
			case fail:
				return nil, errors.New("network is unreachable (test)")
			case hang:
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return srv.Dial(ctx, network, addr)
		}
		l := memLink(t, srv, 5*time.Second, 3, dial)
		stop := runVirtual(l, srv)
		defer stop()
		// Four failures: the next wait is seconds long.
		for dials.Load() < 4 {
			time.Sleep(100 * time.Millisecond) // virtual: the outage lasts
		}
		synctest.Wait()
		// The network changed but connects still fail (a neighbour entry
		// not yet resolved): the next try is at once, the one after it
		// from the shortest wait, not from where the outage reached.
		n := dials.Load()
		l.NetworkChanged()
		synctest.Wait()
		if d := dials.Load() - n; d != 1 {
			t.Fatalf("%d dials at once after a network change, want 1", d)
		}
		first := last
		for dials.Load() == n+1 {
			time.Sleep(10 * time.Millisecond) // virtual: until the next try
		}
		if wait := last.Sub(first); wait > time.Second {
			t.Fatalf("the try after a network change's came %s later, want the shortest wait (about 0.5 s)", wait)
		}
		// A connect hanging on the old network starts over at once.
		time.Sleep(time.Minute) // virtual: well into a wait
		synctest.Wait()
		n = dials.Load()
		mode.Store(hang)
		l.NetworkChanged()
		synctest.Wait()
		if d, st := dials.Load()-n, l.Status().Link.State; d != 1 || st != api.LinkConnecting {
			t.Fatalf("after a network change: %d dials, %s; want 1, connecting", d, st)
		}
		mode.Store(up)
		told := time.Now()
		l.NetworkChanged()
		waitFor(t, l, time.Minute, "link up", linkUp)
		if d := time.Since(told); d > 0 || dials.Load() != n+2 {
			t.Errorf("up %s after the last network change, %d dials since the one before (want 2: the hung one, then one at once)", d, dials.Load()-n)
		}
		// On an up link NetworkChanged leaves no kick for the run loop and
		// no mark on the next connect.
		l.NetworkChanged()
		l.mu.Lock()
		kicked, marked := len(l.kick) > 0, l.netChanged || l.freshBackoff
		l.mu.Unlock()
		if st := l.Status(); kicked || marked || st.Link.State != api.LinkUp || st.Link.Reconnects != 0 || dials.Load() != n+2 {
			t.Errorf("an up link told of a network change: kick %v, connect marked %v, %s, %d reconnects, %d dials",
				kicked, marked, st.Link.State, st.Link.Reconnects, dials.Load()-n)
		}
	})
}

// TestEndedByLinkVirtual is the one rule for "did the link end my
// command?": a server that answers a keepalive did not (answered in one
// round trip); a connection already gone did (at once); a server silent
// past the probe did, once the link noticed (interval × count).
func TestEndedByLinkVirtual(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newMemServer(t)
		srv.Net.SetLatency(30 * time.Millisecond)
		const interval, count = 5 * time.Second, 3
		l := memLink(t, srv, interval, count, nil)
		stop := runVirtual(l, srv)
		defer stop()
		waitFor(t, l, time.Minute, "link up", linkUp)
		conn := l.waitConn(context.Background(), nil)
		asked := time.Now()
		if conn.endedByLink(context.Background(), l.DeadAfter()) {
			t.Error("a live server: the link ended the command")
		}
		if d := time.Since(asked); d != 60*time.Millisecond {
			t.Errorf("a live server answered after %s, want one round trip (60ms)", d)
		}
		srv.Net.Freeze()
		asked = time.Now()
		if !conn.endedByLink(context.Background(), l.DeadAfter()) {
			t.Error("a frozen server: the link did not end the command")
		}
		if d := time.Since(asked); d < alive.Probe || d > l.DeadAfter() {
			t.Errorf("a frozen server: decided after %s, want between %s and %s", d, alive.Probe, l.DeadAfter())
		}
		select {
		case <-conn.dead:
		default:
			t.Error("decided before the link noticed")
		}
		asked = time.Now()
		if !conn.endedByLink(context.Background(), l.DeadAfter()) || time.Since(asked) != 0 {
			t.Error("a connection gone: not decided at once")
		}
		srv.Net.Thaw()
	})
}
