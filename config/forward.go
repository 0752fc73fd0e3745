package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// forwardListen reads a forward's listen address as ssh -L reads its
// bind address: ":PORT" is the loopback address unless
// gateway = true; a written address is bound as written, and one that is
// not loopback (or "*" for every interface) is exposed. It returns the
// forward, or why the text is refused.
func forwardListen(rf rawForward) (Forward, string) {
	text := rf.Listen
	host, port, err := net.SplitHostPort(text)
	if err != nil || text == "" {
		return Forward{}, fmt.Sprintf("%q is not host:port", text)
	}
	if !validPort(port, true) {
		return Forward{}, fmt.Sprintf("%q: the port must be a number from 1 to 65535", text)
	}
	switch {
	case host == "" && rf.Gateway:
		return Forward{Listen: ":" + port, Exposed: true}, ""
	case host == "":
		return Forward{Listen: net.JoinHostPort("127.0.0.1", port)}, ""
	case rf.Gateway:
		return Forward{}, fmt.Sprintf("%q: gateway = true listens on every interface: write the port alone (listen = \":%s\"), or drop gateway to bind %s", text, port, host)
	case host == "*":
		return Forward{Listen: ":" + port, Exposed: true}, ""
	case host == "localhost":
		return Forward{Listen: net.JoinHostPort("127.0.0.1", port)}, ""
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return Forward{}, fmt.Sprintf("%q: write an IP address, localhost or * (not the name %q)", text, host)
	}
	return Forward{Listen: net.JoinHostPort(ip.String(), port), Exposed: !ip.IsLoopback()}, ""
}

// validPort: a decimal port from 1 to 65535 (0, the system's choice, too
// when zero is true).
func validPort(s string, zero bool) bool {
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 || n < 0 || (n == 0 && !zero) {
		return false
	}
	return strconv.Itoa(n) == s
}

// exposedWhere says where an exposed listen address can be reached from.
func exposedWhere(listen string) string {
	host, _, _ := net.SplitHostPort(listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "every network interface"
	}
	return host
}
