// Command fdpass is a ProxyUseFdpass helper for the tests: it connects to
// HOST PORT and passes the connected socket back over its stdout
// (SCM_RIGHTS), as ssh expects of a ProxyCommand with ProxyUseFdpass, then
// exits. With -none it exits without passing anything; with -stream HOST
// PORT it is a plain ProxyCommand, copying the connection to its stdin
// and stdout until either ends.
package main

import (
	"fmt"
	"io"
	"net"
	"os"

	"github.com/perchdesk/perch/internal/sys/fdpass"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-none" {
		os.Exit(0)
	}
	if len(os.Args) == 4 && os.Args[1] == "-stream" {
		if err := stream(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "fdpass -stream:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fdpass HOST PORT | fdpass -none | fdpass -stream HOST PORT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "fdpass:", err)
		os.Exit(1)
	}
}

func run(host, port string) error {
	c, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	out, err := net.FileConn(os.Stdout)
	if err != nil {
		return fmt.Errorf("stdout is not a socket: %w", err)
	}
	uc, ok := out.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("stdout is not a Unix socket")
	}
	return fdpass.Send(uc, f)
}

func stream(host, port string) error {
	c, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan error, 2)
	go func() { _, err := io.Copy(c, os.Stdin); done <- err }()
	go func() { _, err := io.Copy(os.Stdout, c); done <- err }()
	return <-done // the first direction to end ends the command
}
