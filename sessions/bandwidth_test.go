package sessions

import (
	"net"
	"testing"
	"time"
)

// TestLimitArgs: a local client starts with perch's limit unless its own
// options set one, in either of xpra's spellings.
func TestLimitArgs(t *testing.T) {
	l := New(Options{Server: "s"})
	l.bw.Set(3_800_000, 4_750_000)
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, 3_800_000},
		{[]string{"--encoding=jpeg"}, 3_800_000},
		{[]string{"--bandwidth-limit=10M"}, 0},
		{[]string{"--bandwidth-limit", "10M"}, 0},
		{[]string{"--bandwidth-limit=0"}, 0},
	} {
		limit, changed := l.xpraLimit(LocalDisplaySpec(10, tc.args, "").Local)
		if limit != tc.want || (changed == nil) != (tc.want == 0) {
			t.Errorf("%q: limit %d (changed %v), want %d", tc.args, limit, changed != nil, tc.want)
		}
	}
	if st := l.Status().Link; st.XpraLimit != 3_800_000 || st.Carried != 4_750_000 {
		t.Errorf("status: %+v", st)
	}
}

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
	l := &Link{}
	l.rx.Store(7)
	if got := l.receivedCounter()(); got != 7 {
		t.Errorf("without a TCP connection: %d, want the bytes read (7)", got)
	}
	l.tcp.Store(c.(*net.TCPConn))
	count := l.receivedCounter()
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
