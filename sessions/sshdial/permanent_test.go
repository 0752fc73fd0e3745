package sshdial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/perchdesk/perch/sessions/hostkey"
)

// TestPermanent: a refused host key or authentication fails the link for
// good, by type (however it is wrapped); anything else is retried.
func TestPermanent(t *testing.T) {
	auth := &AuthError{Host: "quiet", Offered: "the server refused authentication", Err: errors.New("ssh: unable to authenticate")}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{auth, true},
		{fmt.Errorf("dial: %w", auth), true},
		{fmt.Errorf("dial: %w", &hostkey.HostKeyError{}), true},
		{errors.New("ssh: unable to authenticate (only words)"), false},
		{errors.New("connection refused"), false},
	} {
		if got := Permanent(tc.err); got != tc.want {
			t.Errorf("Permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRestartable: Restart ends the connect in progress with
// ErrRestarted, and only that one; a connection made is told to Made.
func TestRestartable(t *testing.T) {
	started := make(chan struct{}, 1)
	var made []net.Conn
	r := &Restartable{
		Inner: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "blackhole:22" {
				started <- struct{}{}
				<-ctx.Done() // a SYN nobody answers
				return nil, ctx.Err()
			}
			a, b := net.Pipe()
			b.Close()
			return a, nil
		},
		Made: func(c net.Conn) { made = append(made, c) },
	}
	if r.Restart() {
		t.Error("Restart with no connect in progress said there was one")
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Dial(context.Background(), "tcp", "blackhole:22")
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the connect did not start")
	}
	if !r.Restart() {
		t.Error("Restart during a connect said there was none")
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrRestarted) {
			t.Errorf("the connect ended with %v, want ErrRestarted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Restart did not end the connect")
	}
	c, err := r.Dial(context.Background(), "tcp", "server:22")
	if err != nil || len(made) != 1 || made[0] != c {
		t.Errorf("a connection made: %v, %d told", err, len(made))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := r.Dial(ctx, "tcp", "blackhole:22"); errors.Is(err, ErrRestarted) || !errors.Is(err, context.Canceled) {
		t.Errorf("a connect whose context ended: %v", err)
	}
}
