package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// quiet is how long a read waits to show that nothing arrives.
const quiet = 200 * time.Millisecond

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// server is a target on 127.0.0.1:0. With echo set it echoes every
// connection; otherwise it hands each accepted connection to conns.
type server struct {
	ln    net.Listener
	conns chan net.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  []net.Conn
}

func newServer(t *testing.T, echo bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln, conns: make(chan net.Conn, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
			if !echo {
				s.conns <- c
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// accept returns the next connection the sink server accepted.
func (s *server) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("target accepted no connection")
		return nil
	}
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// expect reads exactly len(want) bytes from c and compares them.
func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %q: %v (got %q)", want, err, got)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// expectNothing checks that nothing arrives on c for a while.
func expectNothing(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(quiet))
	var b [64]byte
	n, err := c.Read(b[:])
	if n > 0 {
		t.Fatalf("received %q while frozen", b[:n])
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read while frozen: got %v, want a timeout", err)
	}
}

func TestBothDirections(t *testing.T) {
	srv := newServer(t, false)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.accept(t)
	defer s.Close()

	send(t, c, "ping")
	expect(t, s, "ping")
	send(t, s, "pong")
	expect(t, c, "pong")

	// A half-close travels through: the target sees EOF and can still answer.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := s.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("target read after client half-close: n=%d err=%v, want EOF", n, err)
	}
	send(t, s, "bye")
	expect(t, c, "bye")
	_ = s.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("client read after target close: n=%d err=%v, want EOF", n, err)
	}
	if !waitFor(5*time.Second, func() bool { return p.Conns() == 0 }) {
		t.Fatalf("Conns() = %d after both sides closed, want 0", p.Conns())
	}
}

func TestEcho(t *testing.T) {
	srv := newServer(t, true)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	for _, msg := range []string{"a", "hello", string(bytes.Repeat([]byte("xyz"), 50000))} {
		send(t, c, msg)
		expect(t, c, msg)
	}
}

func TestFreezeThaw(t *testing.T) {
	srv := newServer(t, false)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.accept(t)
	defer s.Close()
	send(t, c, "warm")
	expect(t, s, "warm")

	p.Freeze()
	p.Freeze() // idempotent
	send(t, c, "one,")
	send(t, s, "ONE,")
	send(t, c, "two,")
	send(t, s, "TWO,")
	expectNothing(t, s)
	expectNothing(t, c)
	if got := p.Conns(); got != 1 {
		t.Fatalf("Conns() = %d while frozen, want 1 (freeze must not close)", got)
	}

	// A connection made during the freeze is accepted but carries nothing.
	c2 := dial(t, p.Addr())
	s2 := srv.accept(t)
	defer s2.Close()
	send(t, c2, "late")
	expectNothing(t, s2)

	send(t, c, "three")
	p.Thaw()
	p.Thaw() // idempotent
	expect(t, s, "one,two,three")
	expect(t, c, "ONE,TWO,")
	expect(t, s2, "late")

	// Business as usual afterwards.
	send(t, c, "after")
	expect(t, s, "after")
}

func TestFreezeHoldsEOF(t *testing.T) {
	srv := newServer(t, false)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.accept(t)
	defer s.Close()
	send(t, c, "x")
	expect(t, s, "x")

	p.Freeze()
	send(t, c, "last")
	_ = c.Close()
	expectNothing(t, s)
	p.Thaw()
	expect(t, s, "last")
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := s.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("target read after thaw: n=%d err=%v, want EOF", n, err)
	}
}

// TestFreezeThawNoDataLoss streams data through an echo target while the
// proxy is frozen and thawed repeatedly, and checks every byte comes back in
// order.
func TestFreezeThawNoDataLoss(t *testing.T) {
	srv := newServer(t, true)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())

	const size = 8 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}

	writeErr := make(chan error, 1)
	go func() {
		// The whole stream must get through within the overall deadline.
		_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		for off := 0; off < size; off += 4096 {
			if _, err := c.Write(data[off : off+4096]); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()

	readDone := make(chan error, 1)
	var got bytes.Buffer
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.CopyN(&got, c, size)
		readDone <- err
	}()

	for i := 0; i < 10; i++ {
		time.Sleep(20 * time.Millisecond)
		p.Freeze()
		time.Sleep(20 * time.Millisecond)
		p.Thaw()
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := <-readDone; err != nil {
		t.Fatalf("read: %v (got %d of %d bytes)", err, got.Len(), size)
	}
	if !bytes.Equal(got.Bytes(), data) {
		i := 0
		for i < size && got.Bytes()[i] == data[i] {
			i++
		}
		t.Fatalf("echoed data differs from sent data at byte %d", i)
	}
}

func TestCut(t *testing.T) {
	srv := newServer(t, true)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	send(t, c, "before")
	expect(t, c, "before")
	if got := p.Conns(); got != 1 {
		t.Fatalf("Conns() = %d, want 1", got)
	}

	p.Cut()
	if got := p.Conns(); got != 0 {
		t.Fatalf("Conns() after Cut = %d, want 0", got)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 16))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Cut: n=%d err=%v, want EOF or reset", n, err)
	}

	c2 := dial(t, p.Addr())
	send(t, c2, "after")
	expect(t, c2, "after")
	if got, want := p.Accepted(), 2; got != want {
		t.Fatalf("Accepted() = %d, want %d", got, want)
	}
	if got := p.Conns(); got != 1 {
		t.Fatalf("Conns() = %d, want 1", got)
	}
}

func TestCutWhileFrozen(t *testing.T) {
	srv := newServer(t, true)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	send(t, c, "x")
	expect(t, c, "x")

	p.Freeze()
	send(t, c, "held")
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 16)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Cut: n=%d err=%v, want EOF or reset", n, err)
	}
	// Still frozen for new connections until Thaw.
	c2 := dial(t, p.Addr())
	send(t, c2, "new")
	expectNothing(t, c2)
	p.Thaw()
	expect(t, c2, "new")
}

func TestCounts(t *testing.T) {
	srv := newServer(t, true)
	p := newProxy(t, srv.addr())
	if p.Accepted() != 0 || p.Conns() != 0 {
		t.Fatalf("fresh proxy: Accepted=%d Conns=%d, want 0 0", p.Accepted(), p.Conns())
	}
	var cs []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, p.Addr())
		send(t, c, "hi")
		expect(t, c, "hi")
		cs = append(cs, c)
	}
	if p.Accepted() != 3 || p.Conns() != 3 {
		t.Fatalf("after 3 dials: Accepted=%d Conns=%d, want 3 3", p.Accepted(), p.Conns())
	}
	_ = cs[0].Close()
	if !waitFor(5*time.Second, func() bool { return p.Conns() == 2 }) {
		t.Fatalf("Conns() = %d after one client closed, want 2", p.Conns())
	}
	if p.Accepted() != 3 {
		t.Fatalf("Accepted() = %d, want 3", p.Accepted())
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Close the target only after the proxy has its own port, so the two
	// cannot be the same.
	p := newProxy(t, ln.Addr().String())
	_ = ln.Close()
	// The proxy resets the client as soon as the upstream dial fails, which
	// can be so quick that the client's connect itself reports the reset.
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read with target down: n=%d err=%v, want EOF or reset", n, err)
		}
	}
	if p.Accepted() != 1 && !waitFor(5*time.Second, func() bool { return p.Accepted() == 1 }) {
		t.Fatalf("Accepted() = %d, want 1", p.Accepted())
	}
	if !waitFor(5*time.Second, func() bool { return p.Conns() == 0 }) {
		t.Fatalf("Conns() = %d, want 0", p.Conns())
	}
}

// TestCloseLeavesNoGoroutines closes a proxy with open, frozen and blocked
// connections and checks all its goroutines end.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	srv := newServer(t, true)
	before := runtime.NumGoroutine()

	p, err := New(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	var cs []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		send(t, c, "x")
		expect(t, c, "x")
	}
	p.Freeze()
	c, err := net.Dial("tcp", p.Addr()) // accepted while frozen
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, c)
	send(t, c, "held")
	if !waitFor(5*time.Second, func() bool { return p.Accepted() == 5 }) {
		t.Fatalf("Accepted() = %d, want 5", p.Accepted())
	}

	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, c := range cs {
		_ = c.Close()
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("proxy still accepts connections after Close")
	}
	if p.Conns() != 0 {
		t.Fatalf("Conns() = %d after Close, want 0", p.Conns())
	}

	// The echo server's per-connection goroutines end once the proxy has
	// closed its upstream sides, so the count returns to the baseline.
	var now int
	if !waitFor(5*time.Second, func() bool {
		now = runtime.NumGoroutine()
		return now <= before
	}) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("goroutines: %d before, %d after Close\n%s", before, now, buf)
	}
}

func TestBlackhole(t *testing.T) {
	srv := newServer(t, false)
	p := newProxy(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.accept(t)
	defer s.Close()
	send(t, c, "warm")
	expect(t, s, "warm")

	p.Blackhole()
	send(t, c, "lost")
	send(t, s, "LOST")
	expectNothing(t, s)
	expectNothing(t, c)
	if got := p.Conns(); got != 1 {
		t.Fatalf("Conns() = %d after Blackhole, want 1 (nothing is closed)", got)
	}

	// A new connection is forwarded as usual.
	c2 := dial(t, p.Addr())
	s2 := srv.accept(t)
	defer s2.Close()
	send(t, c2, "fresh")
	expect(t, s2, "fresh")
	send(t, s2, "FRESH")
	expect(t, c2, "FRESH")

	// Thaw does not revive a black-holed connection.
	p.Freeze()
	p.Thaw()
	expectNothing(t, s)
	expectNothing(t, c)
	send(t, c2, "still")
	expect(t, s2, "still")

	// Cut closes it (and the live one).
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 16)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a black-holed connection after Cut: n=%d err=%v, want it closed", n, err)
	}
	if !waitFor(5*time.Second, func() bool { return p.Conns() == 0 }) {
		t.Fatalf("Conns() = %d after Cut, want 0", p.Conns())
	}
}
