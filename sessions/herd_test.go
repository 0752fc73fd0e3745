package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/perchdesk/perch/sessions/backoff"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

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
// MaxStartups, it asks again within backoff.LoadMax without growing the backoff
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
		l := New(Options{Server: "s", Log: quiet, dial: fakeDial(fail, func() {}), rand: backoff.Seeded(7)})
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
				if gap > backoff.DownMax {
					t.Errorf("attempt %d: %s after a refused connect, want at most %s", i, gap, backoff.DownMax)
				}
			case prev < 20*time.Second:
				load++
				if gap < backoff.LoadMin || gap > backoff.LoadMax {
					t.Errorf("attempt %d: %s after a drop before the banner, want [%s, %s]", i, gap, backoff.LoadMin, backoff.LoadMax)
				}
			case attempts[i-1] >= 20*time.Second && (i < 2 || attempts[i-2] < 20*time.Second):
				// The first failure after the banner: the backoff did not
				// grow through the refusals and drops.
				if gap > 5*backoff.New().Base/4 {
					t.Errorf("the first failure after the drops waited %s, want about %s", gap, backoff.New().Base)
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
		server := &maxStartups{rand: backoff.Seeded(seed)}
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
			l := New(Options{Server: "s", Log: quiet, dial: fakeDial(fail, up), rand: backoff.Seeded(seed + uint64(i) + 1)})
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
