package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// seeded returns a reproducible random source in [0,1) for a backoff.
func seeded(seed uint64) func() float64 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// TestBackoffShortWaits: a server that is away or shed load is asked
// again within seconds, jittered, and neither grows the failure backoff;
// the first wait after a healthy run is a random point of [0, 2×Base).
func TestBackoffShortWaits(t *testing.T) {
	b := NewBackoff()
	b.rand = func() float64 { return 0.5 }
	var got []time.Duration
	for range 6 {
		got = append(got, b.Down())
	}
	want := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Down %d = %s, want %s", i, got[i], want[i])
		}
	}
	if d := b.Load(); d != loadMin+(loadMax-loadMin)/2 {
		t.Errorf("Load = %s", d)
	}
	if d := b.Next(); d != b.Base {
		t.Errorf("Next after Down and Load = %s, want %s: they grew the backoff", d, b.Base)
	}
	b.rand = seeded(1)
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		for _, d := range []time.Duration{b.Down(), b.Load()} {
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if lo < loadMin || hi > downMax || hi > loadMax {
		t.Errorf("short waits range over [%s, %s], want within [%s, %s]", lo, hi, loadMin, max(downMax, loadMax))
	}
	b.Reset()
	var spread []time.Duration
	for range 1000 {
		spread = append(spread, b.Spread())
	}
	lo, hi = time.Hour, 0
	for _, d := range spread {
		lo, hi = min(lo, d), max(hi, d)
	}
	// Full jitter: the whole window is used.
	if lo > 50*time.Millisecond || hi < 950*time.Millisecond || hi >= 2*b.Base {
		t.Errorf("Spread ranges over [%s, %s], want all of [0, %s)", lo, hi, 2*b.Base)
	}
	b.rand = func() float64 { return 0.25 }
	if d := b.Retry(); d != 250*time.Millisecond {
		t.Errorf("first Retry = %s, want Spread's 250ms", d)
	}
	if d := b.Retry(); d != 875*time.Millisecond { // Next: 1 s × (0.75+0.125)
		t.Errorf("second Retry = %s, want Next's 875ms", d)
	}
}

// TestClassify: connect errors are told apart by type: refused and
// unreachable (the server is away), closed before the banner (sshd shed
// load), anything after the banner (a failure).
func TestClassify(t *testing.T) {
	// A real refused connect: a port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, refused := net.Dial("tcp", addr)
	if refused == nil {
		t.Fatalf("a connect to %s, where nothing listens, worked", addr)
	}
	opErr := func(e syscall.Errno) error {
		return fmt.Errorf("connect to perch-test: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", e)})
	}
	cases := []struct {
		name   string
		err    error
		banner bool
		want   failure
	}{
		{"refused", fmt.Errorf("connect to perch-test: %w", refused), false, failDown},
		{"no route", opErr(syscall.EHOSTUNREACH), false, failDown},
		{"network unreachable", opErr(syscall.ENETUNREACH), false, failDown},
		{"TCP connect timed out", fmt.Errorf("connect to s: timed out after 10s during TCP connect: %w", context.DeadlineExceeded), false, failDown},
		{"closed before the banner", dropped(t, false), false, failLoad},
		{"reset before the banner", fmt.Errorf("ssh: handshake failed: %w", opErr(syscall.ECONNRESET)), false, failLoad},
		{"closed after the banner", dropped(t, true), true, failOther},
		{"timed out after the banner", fmt.Errorf("timed out during key exchange: %w", context.DeadlineExceeded), true, failOther},
		{"a jump host could not connect", fmt.Errorf("connect to s through jump host: %w", &ssh.OpenChannelError{Reason: ssh.ConnectionFailed, Message: "Connection refused"}), true, failDown},
		{"a jump host refused the channel", fmt.Errorf("connect to s through jump host: %w", &ssh.OpenChannelError{Reason: ssh.Prohibited}), true, failOther},
		{"a string that looks like one", errors.New("connection refused"), false, failOther},
	}
	for _, c := range cases {
		if got := classify(c.err, c.banner); got != c.want {
			t.Errorf("%s (%v): %s, want %s", c.name, c.err, got, c.want)
		}
	}
}

// dropped returns the error of an SSH handshake with a server that
// closes the connection the way sshd drops one past MaxStartups (at
// once), or after sending its banner.
func dropped(t *testing.T, banner bool) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if banner {
			_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n")
		}
		c.Close()
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = ssh.NewClientConn(c, l.Addr().String(), &ssh.ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey()})
	if err == nil {
		t.Fatal("a handshake with a server that closed at once worked")
	}
	return err
}

// fakeDial is a Link's dial that fails with what fail returns (nil: the
// dial counts as back and the link's run ends), recording when it was
// called.
func fakeDial(fail func(now time.Time) error, back func()) func(context.Context, *sshconf.Target, sshdial.Options) (*ssh.Client, sshdial.Timings, error) {
	return func(ctx context.Context, _ *sshconf.Target, _ sshdial.Options) (*ssh.Client, sshdial.Timings, error) {
		err := fail(time.Now())
		if err == nil {
			back()
			<-ctx.Done()
			err = ctx.Err()
		}
		return nil, sshdial.Timings{}, err
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestRetrySchedule runs a link's connect loop in virtual time: while the
// server refuses, it asks every 2 s at most; when sshd drops it past
// MaxStartups, it asks again within loadMax without growing the backoff
// (the next failure waits Base); an authentication failure stops it.
func TestRetrySchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var attempts []time.Duration
		refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		fail := func(now time.Time) error {
			at := now.Sub(start)
			attempts = append(attempts, at)
			switch {
			case at < 10*time.Second:
				return fmt.Errorf("connect to s: %w", refused)
			case at < 20*time.Second:
				return fmt.Errorf("connect to s: key exchange: ssh: handshake failed: %w", io.EOF)
			case len(attempts) < 200 && attempts[len(attempts)-2] < 20*time.Second:
				return errors.New("connect to s: key exchange: ssh: no common algorithm") // after a banner
			}
			return &sshdial.AuthError{Host: "s", Offered: "key k", Err: errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]")}
		}
		l := New(Options{Server: "s", Log: quiet, dial: fakeDial(fail, func() {}), rand: seeded(7)})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		synctest.Wait()
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := l.Status().Link.State; st != api.LinkFailed {
			t.Errorf("after an authentication failure the link is %s, want %s", st, api.LinkFailed)
		}
		n := len(attempts)
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(attempts) != n {
			t.Errorf("%d attempts in the hour after an authentication failure", len(attempts)-n)
		}
		cancel()
		<-done
		var down, load int
		for i := 1; i < len(attempts); i++ {
			prev, gap := attempts[i-1], attempts[i]-attempts[i-1]
			switch {
			case prev < 10*time.Second:
				down++
				if gap > downMax {
					t.Errorf("attempt %d: %s after a refused connect, want at most %s", i, gap, downMax)
				}
			case prev < 20*time.Second:
				load++
				if gap < loadMin || gap > loadMax {
					t.Errorf("attempt %d: %s after a drop before the banner, want [%s, %s]", i, gap, loadMin, loadMax)
				}
			case attempts[i-1] >= 20*time.Second && (i < 2 || attempts[i-2] < 20*time.Second):
				// The first failure after the banner: the backoff did not
				// grow through the refusals and drops.
				if gap > 5*NewBackoff().Base/4 {
					t.Errorf("the first failure after the drops waited %s, want about %s", gap, NewBackoff().Base)
				}
			}
		}
		if down < 6 || load < 6 {
			t.Errorf("%d attempts in 10 s of refusals, %d in 10 s of drops: want at least 6 each", down, load)
		}
	})
}

// maxStartups models sshd's MaxStartups 10:30:100: past 10 unauthenticated
// connections it drops new ones at random, 30 % rising to 100 % at 100.
type maxStartups struct {
	mu       sync.Mutex
	inFlight int
	drops    int
	rand     func() float64
}

func (m *maxStartups) admit() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.inFlight; n >= 10 && m.rand() < 0.3+0.7*float64(n-10)/90 {
		m.drops++
		return false
	}
	m.inFlight++
	return true
}

func (m *maxStartups) done() {
	m.mu.Lock()
	m.inFlight--
	m.mu.Unlock()
}

// herd runs n links in virtual time against one modelled sshd that
// refuses connects until returns, then takes handshake per connection
// and sheds load like MaxStartups. It returns when each link was back
// (relative to returns) and the number of drops.
func herd(t *testing.T, n int, seed uint64) (back []time.Duration, drops int) {
	const returns, handshake = 10 * time.Second, 200 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		server := &maxStartups{rand: seeded(seed)}
		refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		var mu sync.Mutex
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range n {
			fail := func(now time.Time) error {
				if now.Sub(start) < returns {
					return fmt.Errorf("connect: %w", refused)
				}
				if !server.admit() {
					return fmt.Errorf("ssh: handshake failed: %w", io.EOF)
				}
				time.Sleep(handshake)
				server.done()
				return nil
			}
			up := func() {
				mu.Lock()
				back = append(back, time.Since(start)-returns)
				mu.Unlock()
			}
			l := New(Options{Server: "s", Log: quiet, dial: fakeDial(fail, up), rand: seeded(seed + uint64(i) + 1)})
			wg.Go(func() { l.Run(ctx) })
		}
		time.Sleep(returns + time.Minute)
		cancel()
		wg.Wait()
		drops = server.drops
	})
	return back, drops
}

// TestHerd: 50 seats that lost their server come back spread once it
// returns, the last within twice one seat's time plus 5 s, although
// MaxStartups drops some of them (virtual time, seeded).
func TestHerd(t *testing.T) {
	for seed := range uint64(5) {
		one, _ := herd(t, 1, seed)
		all, drops := herd(t, 50, seed)
		if len(one) != 1 || len(all) != 50 {
			t.Fatalf("seed %d: %d of 1 and %d of 50 seats back within a minute", seed, len(one), len(all))
		}
		last := slices.Max(all)
		t.Logf("seed %d: one seat back %s after the server, the last of 50 %s; %d MaxStartups drops", seed, one[0], last, drops)
		if last > 2*one[0]+5*time.Second {
			t.Errorf("seed %d: the last of 50 seats back %s after the server, want at most 2×%s+5s", seed, last, one[0])
		}
	}
}
