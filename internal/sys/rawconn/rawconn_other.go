//go:build !linux

package rawconn

import "net"

// Wrap returns c: the raw system calls are used on Linux only.
func Wrap(c net.Conn) net.Conn { return c }

// Wrapped reports whether c is a connection Wrap made raw: never here.
func Wrapped(c net.Conn) bool { return false }
