package bwlimit

import (
	"net"
	"testing"
	"time"
)

// TestReceivedCounter: on a TCP connection the bandwidth watch counts the
// bytes the kernel received, before perch reads them (a busy thin client
// reads late, and its reads would make the link look faster); without
// one, the bytes read.
func TestReceivedCounter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if got := ReceivedCounter(nil, func() int64 { return 7 })(); got != 7 {
		t.Errorf("without a TCP connection: %d, want the bytes read (7)", got)
	}
	count := ReceivedCounter(c.(*net.TCPConn), nil)
	before := count()
	if _, err := srv.Write(make([]byte, 50_000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for count()-before != 50_000 {
		if time.Now().After(deadline) {
			t.Fatalf("the kernel's count moved by %d, want 50000 (nothing read yet)", count()-before)
		}
		time.Sleep(time.Millisecond)
	}
}
