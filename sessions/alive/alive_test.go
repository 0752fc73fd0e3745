package alive

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestPingOneInFlight: who pings while a keepalive is out gets that
// keepalive's answer; no second one is sent.
func TestPingOneInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent atomic.Int32
		answer := make(chan error)
		p := NewPinger(func() error {
			sent.Add(1)
			return <-answer
		})
		var wg sync.WaitGroup
		rtts := make([]time.Duration, 3)
		for i := range rtts {
			wg.Go(func() { rtts[i], _ = p.Ping() })
		}
		synctest.Wait()
		time.Sleep(40 * time.Millisecond)
		answer <- nil
		wg.Wait()
		if n := sent.Load(); n != 1 {
			t.Errorf("%d keepalives sent for three pings at once, want 1", n)
		}
		for i, rtt := range rtts {
			if rtt != 40*time.Millisecond {
				t.Errorf("ping %d: round trip %s, want the one keepalive's 40ms", i, rtt)
			}
		}
		go func() { answer <- errors.New("connection lost") }()
		if rtt, err := p.Ping(); err == nil || rtt != 0 || sent.Load() != 2 {
			t.Errorf("a failed keepalive: %s, %v (%d sent)", rtt, err, sent.Load())
		}
	})
}

// TestEndedByLink: a connection that is gone, or a server that does not
// answer within Probe, ended the command; a server that answers did not.
func TestEndedByLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const deadAfter = 15 * time.Second
		answers := NewPinger(func() error { time.Sleep(50 * time.Millisecond); return nil })
		gone := make(chan struct{}) // the silent server's connection closes at the end
		silent := NewPinger(func() error { <-gone; return errors.New("connection closed") })
		dead, live := make(chan struct{}), make(chan struct{})
		close(dead)
		ctx := context.Background()

		start := time.Now()
		if !EndedByLink(ctx, silent, dead, deadAfter) || time.Since(start) != 0 {
			t.Errorf("a connection that is gone: not at once")
		}
		start = time.Now()
		if EndedByLink(ctx, answers, live, deadAfter) || time.Since(start) != 50*time.Millisecond {
			t.Errorf("a server that answers in 50ms: ended by the link, or decided after %s", time.Since(start))
		}
		start = time.Now()
		if !EndedByLink(ctx, silent, live, deadAfter) || time.Since(start) != Probe+deadAfter {
			t.Errorf("a silent server: decided after %s, want %s (the probe, then the wait for the link to notice)", time.Since(start), Probe+deadAfter)
		}
		close(gone)
		synctest.Wait()
	})
}

// TestCounter: bytes read through a wrapped connection are counted and
// date the server's last sign of life.
func TestCounter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		var k Counter
		k.Touch()
		c := k.Wrap(a)
		time.Sleep(3 * time.Second)
		if s := k.Silence(); s != 3*time.Second {
			t.Errorf("silence %s, want 3s", s)
		}
		go b.Write([]byte("hello"))
		buf := make([]byte, 16)
		if n, err := c.Read(buf); err != nil || n != 5 {
			t.Fatalf("read %d, %v", n, err)
		}
		if k.Received() != 5 || k.Silence() != 0 {
			t.Errorf("after 5 bytes: %d received, silent %s", k.Received(), k.Silence())
		}
	})
}
