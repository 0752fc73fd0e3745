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

// badHostChars and badUserChars are what ssh's own checks of a target
// refuse (readconf.c ssh_valid_hostname and ssh_valid_ruser, in Debian 12's
// OpenSSH 9.2 since its security updates), besides spaces and control
// characters; perch refuses them in ProxyJump hops too.
const (
	badHostChars = "'`\"$\\;&<>|(){},"
	badUserChars = "'`\";&<>|(){}"
)

// ParseSpec parses "[user@]host[:port]" (also "[user@][v6addr][:port]",
// a bare IPv6 address, and an ssh:// prefix as ssh -J accepts). Host and
// user names are refused where ssh's own check refuses them.
func ParseSpec(s string) (Spec, error) {
	var spec Spec
	orig := s
	if s == "" {
		return spec, errors.New("empty server name")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return spec, fmt.Errorf("server %q: %q is not allowed in a server name (spaces and control characters are refused)", orig, s[i])
	}
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		spec.User, s = s[:i], s[i+1:]
		if err := checkUser(spec.User); err != nil {
			return spec, fmt.Errorf("server %q: %w", orig, err)
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
	case strings.Count(s, ":") > 1 && net.ParseIP(s) != nil:
		spec.Host = s
	default:
		host, p, found := strings.Cut(s, ":")
		switch {
		case found && p == "":
			return spec, fmt.Errorf("server %q: empty port after ':'", orig)
		case found && (portRe.MatchString(p) || !strings.Contains(p, ":") && isService(p)):
			port = p
		case found:
			host = s // ssh reads "a:b" as a name (a Host block may give its HostName)
		}
		spec.Host = host
		if err := checkHost(host); err != nil {
			return spec, fmt.Errorf("server %q: %w", orig, err)
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

// portRe is what is meant as a port number after "host:".
var portRe = regexp.MustCompile(`^[+-]?[0-9]+$`)

// isService reports a service name of /etc/services (a port, as ssh's
// a2port reads it).
func isService(p string) bool {
	n, err := net.LookupPort("tcp", p)
	return err == nil && n > 0 && p == strings.ToLower(p)
}

// checkHost is ssh's valid_hostname.
func checkHost(h string) error {
	switch {
	case h == "":
		return errors.New("empty host name")
	case h[0] == '-':
		return fmt.Errorf("host name %q starts with '-'", h)
	case strings.ContainsAny(h, badHostChars):
		return fmt.Errorf("host name %q has one of %s (ssh refuses them too)", h, badHostChars)
	}
	return nil
}

// checkUser is ssh's valid_ruser.
func checkUser(u string) error {
	switch {
	case u == "":
		return errors.New("empty user name before '@'")
	case u[0] == '-':
		return fmt.Errorf("user name %q starts with '-'", u)
	case strings.ContainsAny(u, badUserChars):
		return fmt.Errorf("user name %q has one of %s (ssh refuses them too)", u, badUserChars)
	case strings.HasSuffix(u, "\\"):
		return fmt.Errorf("user name %q ends with '\\'", u)
	}
	return nil
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
// refuses; quotes are taken off as the shell ssh runs the hops with does.
func ParseJump(s string) ([]Spec, error) {
	var hops []Spec
	// ssh hands the hops to a shell (ssh -J ... -W), which takes quotes
	// off: ProxyJump "jump" reaches jump. A quote in a port is refused,
	// as parse_jump refuses it.
	unquote := strings.NewReplacer(`"`, "", "'", "")
	// ssh reads the value up to its first space ("a b,c" is a), and an
	// empty port after ':' as none ("a:" is a).
	s = strings.TrimLeft(s, whitespace)
	if i := strings.IndexAny(s, whitespace); i >= 0 {
		s = s[:i]
	}
	for _, h := range strings.Split(s, ",") {
		if strings.HasSuffix(h, ":") && !strings.HasSuffix(h, "::") {
			h = h[:len(h)-1]
		}
		if i := strings.LastIndexAny(h, ":]"); i >= 0 && h[i] == ':' && strings.Count(h, ":") == 1 && strings.ContainsAny(h[i:], `"'`) {
			return nil, fmt.Errorf("ProxyJump: bad port in %q", h)
		}
		spec, err := ParseSpec(unquote.Replace(h))
		if err != nil {
			return nil, fmt.Errorf("ProxyJump: %w", err)
		}
		// A hop is user@host:port to parse_user_host_port: "a:b" is a bad
		// port, not a name as on ssh's command line.
		if strings.Contains(spec.Host, ":") && net.ParseIP(spec.Host) == nil {
			return nil, fmt.Errorf("ProxyJump: bad port in %q", h)
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
