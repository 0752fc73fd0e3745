package sshconf

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Spec is a parsed "[user@]host[:port]".
type Spec struct {
	User string // "" if not given
	Host string // without brackets
	Port int    // 0 if not given
}

var (
	userRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._@\\-]*$`)
	hostRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?$`)
)

// ParseSpec parses "[user@]host[:port]" (also "[user@][v6addr][:port]",
// a bare IPv6 address, and an ssh:// prefix as ssh -J accepts).
func ParseSpec(s string) (Spec, error) {
	var spec Spec
	orig := s
	if s == "" {
		return spec, errors.New("empty server name")
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("'\"`$;&|<>(){}*?!#~^,=", r)
	}); i >= 0 {
		return spec, fmt.Errorf("server %q: %q is not allowed in a server name (spaces, control and shell characters are refused)", orig, s[i])
	}
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		spec.User, s = s[:i], s[i+1:]
		if !userRe.MatchString(spec.User) {
			return spec, fmt.Errorf("server %q: user name %q is not allowed (letters, digits, '.', '_', '-', '@' and '\\', not starting with '-' or '.')", orig, spec.User)
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return spec, fmt.Errorf("server %q: missing ']' after the IPv6 address", orig)
		}
		spec.Host, s = s[1:end], s[end+1:]
		if ip := net.ParseIP(spec.Host); ip == nil || ip.To4() != nil && !strings.Contains(spec.Host, ":") {
			return spec, fmt.Errorf("server %q: %q in brackets is not an IPv6 address", orig, spec.Host)
		}
		if s != "" {
			if s[0] != ':' {
				return spec, fmt.Errorf("server %q: unexpected %q after ']'", orig, s)
			}
			port = s[1:]
			if port == "" {
				return spec, fmt.Errorf("server %q: empty port after ':'", orig)
			}
		}
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return spec, fmt.Errorf("server %q: %q is not an IPv6 address (write [address]:port for a port)", orig, s)
		}
		spec.Host = s
	default:
		host, p, found := strings.Cut(s, ":")
		spec.Host = host
		if found {
			if p == "" {
				return spec, fmt.Errorf("server %q: empty port after ':'", orig)
			}
			port = p
		}
		if !hostRe.MatchString(host) {
			return spec, fmt.Errorf("server %q: host name %q is not allowed (letters, digits, '.', '_' and '-', not starting with '-')", orig, host)
		}
	}
	if port != "" {
		n, err := parsePort(port)
		if err != nil {
			return spec, fmt.Errorf("server %q: %w", orig, err)
		}
		spec.Port = n
	}
	return spec, nil
}

// String is "[user@]host[:port]", the host bracketed when it has a ':'.
func (s Spec) String() string {
	h := s.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if s.User != "" {
		h = s.User + "@" + h
	}
	if s.Port != 0 {
		h = fmt.Sprintf("%s:%d", h, s.Port)
	}
	return h
}

// ParseJump splits a ProxyJump value into its hops, refusing what ssh
// refuses.
func ParseJump(s string) ([]Spec, error) {
	var hops []Spec
	for _, h := range strings.Split(s, ",") {
		spec, err := ParseSpec(strings.TrimSpace(h))
		if err != nil {
			return nil, fmt.Errorf("ProxyJump: %w", err)
		}
		hops = append(hops, spec)
	}
	return hops, nil
}

// checkJump checks a ProxyJump line's value as parse_jump does: a comment
// and trailing spaces are dropped, "none" or hops.
func checkJump(raw string) error {
	v, _, _ := strings.Cut(raw, "#")
	v = strings.TrimRight(v, whitespace)
	if strings.EqualFold(v, "none") {
		return nil
	}
	_, err := ParseJump(v)
	return err
}
