package sshdial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/perchdesk/perch/internal/sys/fdpass"
)

// proxyFdpass runs a ProxyCommand with ProxyUseFdpass as ssh does
// (sshconnect.c ssh_proxy_fdpass_connect): $SHELL -c "exec CMD" with one
// end of a socket pair as its stdin and stdout, stderr inherited; the
// command passes a connected socket back over it (SCM_RIGHTS) and exits,
// and the SSH connection runs on that socket. ctx bounds the wait.
func proxyFdpass(ctx context.Context, command, addr string) (net.Conn, error) {
	child, here, err := fdpass.Pair()
	if err != nil {
		return nil, fmt.Errorf("ProxyCommand %q: %w", command, err)
	}
	defer here.Close()
	cmd := exec.Command(proxyShell(), "-c", "exec "+command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = child, child, os.Stderr
	err = cmd.Start()
	child.Close()
	if err != nil {
		return nil, fmt.Errorf("ProxyCommand %q: %w", command, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owns the process: ends when it exits
	conn, err := fdpass.Receive(ctx, here)
	if err == nil {
		select { // ssh waits for the command to exit before it goes on
		case <-done:
			return conn, nil
		case <-ctx.Done():
			conn.Close()
			err = ctx.Err()
		}
	}
	_ = cmd.Process.Kill()
	<-done
	return nil, fmt.Errorf("ProxyCommand %q (ProxyUseFdpass) for %s: %w", command, addr, err)
}

func proxyShell() string {
	if shell := os.Getenv("SHELL"); shell != "" {
		return shell
	}
	return "/bin/sh"
}

// proxyCommand starts a ProxyCommand as ssh does ($SHELL -c "exec CMD",
// the SSH stream over its stdin and stdout, stderr inherited) and returns
// the stream as a connection; closing it ends the command.
func proxyCommand(command, addr string) (net.Conn, error) {
	cmd := exec.Command(proxyShell(), "-c", "exec "+command)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ProxyCommand %q: %w", command, err)
	}
	c := &cmdConn{cmd: cmd, in: in, out: out, addr: addr, done: make(chan struct{})}
	go func() { // owns the process: ends when it exits
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// cmdConn is a ProxyCommand's stdin and stdout as a net.Conn.
type cmdConn struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     io.ReadCloser
	addr    string
	once    sync.Once
	done    chan struct{}
	waitErr error
}

func (c *cmdConn) Read(b []byte) (int, error) {
	n, err := c.out.Read(b)
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	return n, err
}

func (c *cmdConn) Write(b []byte) (int, error) { return c.in.Write(b) }

// Close closes the command's stdin, then kills it if it has not exited
// within a second.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.in.Close()
		select {
		case <-c.done:
		case <-time.After(time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return nil
}

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

func (c *cmdConn) LocalAddr() net.Addr                { return proxyAddr("local") }
func (c *cmdConn) RemoteAddr() net.Addr               { return proxyAddr(c.addr) }
func (c *cmdConn) SetDeadline(t time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }
