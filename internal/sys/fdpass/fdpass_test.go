package fdpass

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestSendReceive passes a connected TCP socket through a pair and
// talks over the received one.
func TestSendReceive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.(*net.TCPConn).File()
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	child, here, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	cc, err := net.FileConn(child)
	child.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := Send(cc.(*net.UnixConn), f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := Receive(context.Background(), here)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if _, err := got.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("no connection accepted")
	}
	defer srv.Close()
	buf := make([]byte, 4)
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

// TestReceiveNothing: a peer that closes, or writes without a descriptor,
// is an error; a cancelled context ends the wait.
func TestReceiveNothing(t *testing.T) {
	for _, data := range []string{"", "SSH-2.0-x\r\n"} {
		child, here, err := Pair()
		if err != nil {
			t.Fatal(err)
		}
		if data != "" {
			child.Write([]byte(data))
		}
		child.Close()
		if c, err := Receive(context.Background(), here); err == nil {
			c.Close()
			t.Errorf("%q: no error", data)
		}
		here.Close()
	}
	child, here, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Receive(ctx, here)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive did not end with its context")
	}
}
