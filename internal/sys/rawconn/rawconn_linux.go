package rawconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// rawCalls counts the raw reads and writes made, for the tests.
var rawCalls atomic.Uint64

type conn struct {
	net.Conn
	rc syscall.RawConn
}

// Wrap returns c with reads and writes done by raw system calls when c is
// a *net.TCPConn or *net.UnixConn (the net package makes their sockets
// non-blocking, which a raw call needs: it must never sleep in the kernel);
// any other net.Conn is returned as it is.
func Wrap(c net.Conn) net.Conn {
	var sc syscall.Conn
	switch c := c.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &conn{Conn: c, rc: rc}
}

// Wrapped reports whether c is a connection Wrap made raw.
func Wrapped(c net.Conn) bool {
	_, ok := c.(*conn)
	return ok
}

func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return c.Conn.Read(p)
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			rawCalls.Add(1)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			n, errno = int(r), e
			return true
		}
	})
	if err != nil {
		return 0, opError("read", c.Conn, unwrapRaw(err))
	}
	if errno != 0 {
		return 0, opError("read", c.Conn, errno)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *conn) Write(p []byte) (int, error) {
	var n int
	var errno syscall.Errno
	var zero bool
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			rawCalls.Add(1)
			switch {
			case e == 0 && r == 0:
				// Nothing written and no error: give up rather than spin,
				// as the net package does.
				zero = true
				return true
			case e == 0:
				n += int(r)
			case e == syscall.EINTR:
			case e == syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err != nil {
		return n, opError("write", c.Conn, unwrapRaw(err))
	}
	if errno != 0 {
		return n, opError("write", c.Conn, errno)
	}
	if zero {
		return n, io.ErrUnexpectedEOF
	}
	return n, nil
}

// unwrapRaw takes the cause out of the "raw-read"/"raw-write" OpError
// that syscall.RawConn returns, so that the error reads as the plain
// connection's would.
func unwrapRaw(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

func opError(op string, c net.Conn, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// CloseWrite shuts down the writing side, as *net.TCPConn and
// *net.UnixConn do; a connection without one is closed.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}
