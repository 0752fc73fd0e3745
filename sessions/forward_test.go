package sessions

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/forward"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
	"golang.org/x/crypto/ssh"
)

// TestForwardCountsOnce: a forwarded connection counts once in Active while
// it is open and once in Total, though perch holds two sockets for it (the
// local one and the channel to the server).
func TestForwardCountsOnce(t *testing.T) {
	b := needBed(t)
	echo := testbed.Echo(t)
	l := b.newLink(t, nil, nil)
	l.SetForwards([]forward.Spec{{Listen: "127.0.0.1:0", To: echo}})
	run(t, l)
	waitFor(t, l, 30*time.Second, "the link up", func(st Status) bool { return st.Link.State == api.LinkUp })

	c, err := net.DialTimeout("tcp", l.ForwardAddrs()[0], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	// Once the echo comes back, both sockets of the connection are open.
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("read back through the forward: %v", err)
	}
	st := l.Status()
	if f := st.Forwards[0]; f.Active != 1 || f.Total != 1 {
		t.Errorf("one open connection: active %d total %d, want 1 and 1", f.Active, f.Total)
	}
	c.Close()
	waitFor(t, l, 20*time.Second, "the connection closed", func(st Status) bool { return st.Forwards[0].Active == 0 })
	roundTrip(t, l.ForwardAddrs()[0], "second")
	st = waitFor(t, l, 20*time.Second, "the second connection closed", func(st Status) bool { return st.Forwards[0].Active == 0 })
	if f := st.Forwards[0]; f.Total != 2 {
		t.Errorf("after two connections: total %d, want 2", f.Total)
	}
}

// TestStarted: Started closes once Run has started, also when a forward
// cannot listen (that forward's status says why) and the server cannot be
// reached (the link's says so), and Run returns once its context ends.
func TestStarted(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	noDial := func(ctx context.Context, _ *sshconf.Target, _ sshdial.Options) (*ssh.Client, sshdial.Timings, error) {
		return nil, sshdial.Timings{}, errors.New("no server in this test")
	}
	l := New(Options{Server: "s", dial: noDial, Log: testLogger(t)})
	l.SetForwards([]forward.Spec{{Listen: taken.Addr().String(), To: "127.0.0.1:1"}, {Listen: "127.0.0.1:0", To: "127.0.0.1:1"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	select {
	case <-l.Started():
	case <-done:
		t.Fatal("Run with a taken port returned before it started")
	case <-time.After(20 * time.Second):
		t.Fatal("Started not closed within 20s of Run with a taken port")
	}
	fs := l.Status().Forwards
	if len(fs) != 2 || !strings.Contains(fs[0].LastError, taken.Addr().String()) || fs[1].LastError != "" || strings.HasSuffix(fs[1].Listen, ":0") {
		t.Errorf("forwards %+v, want the taken port's error naming %s, and the other listening", fs, taken.Addr())
	}
	waitFor(t, l, 20*time.Second, "the dial's error", func(st Status) bool { return strings.Contains(st.Link.LastError, "no server in this test") })
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s of its context ending")
	}
	if st := l.Status().Link.State; st != api.LinkStopped {
		t.Errorf("after Run: link %s", st)
	}
}
