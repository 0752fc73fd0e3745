package backoff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestBackoff(t *testing.T) {
	b := New()
	b.Rand = func() float64 { return 0.5 } // factor 1.0
	var got []time.Duration
	for range 9 {
		got = append(got, b.Next())
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delay %d = %s, want %s", i, got[i], want[i])
		}
	}
	b.Reset()
	if d := b.Next(); d != 500*time.Millisecond {
		t.Errorf("after Reset: %s", d)
	}
	b.Rand = func() float64 { return 0 }
	if d := b.Next(); d != 750*time.Millisecond { // 1 s × 0.75
		t.Errorf("jitter low end: %s", d)
	}
	b.Rand = func() float64 { return 0.999999 }
	if d := b.Next(); d < 2490*time.Millisecond || d >= 2500*time.Millisecond { // 2 s × ~1.25
		t.Errorf("jitter high end: %s", d)
	}
}

// TestBackoffShortWaits: a server that is away or shed load is asked
// again within seconds, jittered, and neither grows the failure backoff;
// the first wait after a healthy run is a random point of [0, 2×Base).
func TestBackoffShortWaits(t *testing.T) {
	b := New()
	b.Rand = func() float64 { return 0.5 }
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
	if d := b.Load(); d != LoadMin+(LoadMax-LoadMin)/2 {
		t.Errorf("Load = %s", d)
	}
	if d := b.Next(); d != b.Base {
		t.Errorf("Next after Down and Load = %s, want %s: they grew the backoff", d, b.Base)
	}
	b.Rand = Seeded(1)
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		for _, d := range []time.Duration{b.Down(), b.Load()} {
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if lo < LoadMin || hi > DownMax || hi > LoadMax {
		t.Errorf("short waits range over [%s, %s], want within [%s, %s]", lo, hi, LoadMin, max(DownMax, LoadMax))
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
	b.Rand = func() float64 { return 0.25 }
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
		want   Kind
	}{
		{"refused", fmt.Errorf("connect to perch-test: %w", refused), false, Down},
		{"no route", opErr(syscall.EHOSTUNREACH), false, Down},
		{"network unreachable", opErr(syscall.ENETUNREACH), false, Down},
		{"TCP connect timed out", fmt.Errorf("connect to s: timed out after 10s during TCP connect: %w", context.DeadlineExceeded), false, Down},
		{"closed before the banner", dropped(t, false), false, Load},
		{"reset before the banner", fmt.Errorf("ssh: handshake failed: %w", opErr(syscall.ECONNRESET)), false, Load},
		{"closed after the banner", dropped(t, true), true, Other},
		{"timed out after the banner", fmt.Errorf("timed out during key exchange: %w", context.DeadlineExceeded), true, Other},
		{"a jump host could not connect", fmt.Errorf("connect to s through jump host: %w", &ssh.OpenChannelError{Reason: ssh.ConnectionFailed, Message: "Connection refused"}), true, Down},
		{"a jump host refused the channel", fmt.Errorf("connect to s through jump host: %w", &ssh.OpenChannelError{Reason: ssh.Prohibited}), true, Other},
		{"a string that looks like one", errors.New("connection refused"), false, Other},
	}
	for _, c := range cases {
		if got := Classify(c.err, c.banner); got != c.want {
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
