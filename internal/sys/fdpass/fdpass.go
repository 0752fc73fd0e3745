// Package fdpass passes a connected socket between processes over a Unix
// socket (SCM_RIGHTS), as OpenSSH's ProxyUseFdpass does (monitor_fdpass.c).
package fdpass

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Pair is a connected pair of Unix stream sockets; the first end is meant
// for a child process (its stdin and stdout), the second stays here.
func Pair() (child *os.File, here *net.UnixConn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	child = os.NewFile(uintptr(fds[0]), "fdpass-child")
	f := os.NewFile(uintptr(fds[1]), "fdpass")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		child.Close()
		return nil, nil, err
	}
	return child, c.(*net.UnixConn), nil
}

// Receive waits for one descriptor sent over c with SCM_RIGHTS (with at
// least one byte of data, as mm_send_fd sends it) and returns it as a
// connection. ctx ends the wait (c is closed then).
func Receive(ctx context.Context, c *net.UnixConn) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, 1)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("receive a socket: %w", err)
	}
	if n == 0 && oobn == 0 {
		return nil, errors.New("the proxy command passed back no connection (it closed its stdout)")
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("receive a socket: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		got, err := syscall.ParseUnixRights(&m)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("receive a socket: %w", err)
		}
		fds = append(fds, got...)
	}
	if len(fds) != 1 {
		closeAll(fds)
		return nil, fmt.Errorf("the proxy command passed back %d descriptors, want 1", len(fds))
	}
	syscall.CloseOnExec(fds[0])
	f := os.NewFile(uintptr(fds[0]), "fdpass-received")
	defer f.Close()
	conn, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("the proxy command passed back something that is not a socket: %w", err)
	}
	return conn, nil
}

// Send sends f over c with SCM_RIGHTS and one byte of data.
func Send(c *net.UnixConn, f *os.File) error {
	_, _, err := c.WriteMsgUnix([]byte{0}, syscall.UnixRights(int(f.Fd())), nil)
	return err
}

func closeAll(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
