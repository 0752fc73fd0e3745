package forward

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// direct is a link that is always up: it dials To itself.
func direct(dead chan struct{}) Link {
	return func(ctx context.Context) (func(context.Context, string, string) (net.Conn, error), <-chan struct{}, bool) {
		var d net.Dialer
		return d.DialContext, dead, true
	}
}

// wait waits for cond on s's status, on its change notices.
func wait(t *testing.T, changed <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSet: forwards listen on Start (a taken port is that forward's error
// only), carry bytes both ways, count a connection once while it is open,
// keep their listener across Update when their spec stays, and close
// everything on Stop; a link that stays down is the connection's error.
func TestSet(t *testing.T) {
	to := testbed.Echo(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	dead := make(chan struct{})
	s := NewSet(direct(dead), notify, slog.New(slog.NewTextHandler(io.Discard, nil)))
	keep := Spec{Listen: "127.0.0.1:0", To: to}
	s.Update([]Spec{keep, {Listen: taken.Addr().String(), To: to}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	st := s.Status()
	if len(st) != 2 || st[0].LastError != "" || strings.HasSuffix(st[0].Listen, ":0") || !strings.Contains(st[1].LastError, "cannot listen") {
		t.Fatalf("status after Start: %+v", st)
	}
	addr := s.Addrs()[0]
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if f := s.Status()[0]; f.Active != 1 || f.Total != 1 {
		t.Errorf("one open connection: %+v", f)
	}
	s.Update([]Spec{keep}) // the taken one goes; keep stays, its connection too
	if st := s.Status(); len(st) != 1 || st[0].Listen != addr || st[0].Active != 1 {
		t.Errorf("after Update: %+v", st)
	}
	c.Close()
	wait(t, changed, "the connection counted closed", func() bool { return s.Status()[0].Active == 0 })
	s.Stop()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("a forward still listens after Stop")
	}
}

// TestLinkDown: a connection while the link stays down says so in the
// forward's status, and is closed.
func TestLinkDown(t *testing.T) {
	var asked atomic.Int64
	down := func(ctx context.Context) (func(context.Context, string, string) (net.Conn, error), <-chan struct{}, bool) {
		asked.Add(1)
		return nil, nil, false
	}
	changed := make(chan struct{}, 1)
	s := NewSet(down, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Update([]Spec{{Listen: "127.0.0.1:0", To: "127.0.0.1:1"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	defer s.Stop()
	c, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the connection stayed open with the link down")
	}
	wait(t, changed, "the link's error", func() bool { return strings.Contains(s.Status()[0].LastError, "link to the server is down") })
	if asked.Load() != 1 {
		t.Errorf("the link was asked %d times", asked.Load())
	}
}
