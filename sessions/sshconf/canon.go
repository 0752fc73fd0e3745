package sshconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Resolver looks names up for CanonicalizeHostname and
// CanonicalizePermittedCNAMEs; *net.Resolver fits (net.DefaultResolver is
// the system's resolver). LookupCNAME gives the canonical name, as
// getaddrinfo's AI_CANONNAME does for ssh.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
}

// canonMode is CanonicalizeHostname: "no" (the default), "yes" or "always".
func (st *state) canonMode() string {
	if s := st.get("canonicalizehostname"); s != nil {
		return parseCanon(s.args[0])
	}
	return "no"
}

// direct reports a connection without ProxyCommand or ProxyJump (ssh.c:
// "ProxyJump none" still counts as a jump host here).
func (st *state) direct() bool {
	pc := st.get("proxycommand")
	return (pc == nil || strings.EqualFold(pc.raw, "none")) && st.get("proxyjump") == nil
}

// canonicalizer carries out ssh.c's resolve_canonicalize and CNAME rules
// for one resolution.
type canonicalizer struct {
	ctx context.Context
	r   Resolver
	st  *state
}

// errCanonDeferred: a lookup is needed but Options has no Context; the
// name stays as it is until the connection resolves it (Target.Final).
var errCanonDeferred = errors.New("lookup deferred to the connection")

// lookup resolves name as resolve_host does; canon is the canonical name
// without a trailing dot ("" if none or not a valid domain).
func (c *canonicalizer) lookup(name string) (canon string, err error) {
	if c.ctx == nil {
		return "", errCanonDeferred
	}
	if _, err := c.r.LookupHost(c.ctx, name); err != nil {
		return "", err
	}
	cn, err := c.r.LookupCNAME(c.ctx, name)
	if err != nil {
		return "", nil
	}
	cn = strings.TrimSuffix(cn, ".")
	if validDomain(cn) != nil {
		return "", nil
	}
	return cn, nil
}

// canonicalize is the part of ssh.c's main from "try to canonicalize"
// to the second pass: it returns the host name to connect to, and
// whether a lookup was deferred.
func (c *canonicalizer) canonicalize(host string) (string, bool, error) {
	mode := c.st.canonMode()
	wasAddr := isAddr(host)
	found := false
	var err error
	if mode != "no" || wasAddr {
		host, found, err = c.resolveCanonicalize(host, mode)
		if errors.Is(err, errCanonDeferred) {
			return host, true, nil
		}
		if err != nil {
			return "", false, err
		}
	}
	direct := c.st.direct()
	if !found && c.st.permittedCNAMEs() != nil && (direct || mode == "always") {
		cn, err := c.lookup(host)
		switch {
		case errors.Is(err, errCanonDeferred):
			return host, true, nil
		case err != nil && direct:
			return "", false, fmt.Errorf("could not resolve host name %s: %w", host, err)
		case err == nil:
			host = c.followCNAME(direct, host, cn)
		}
	}
	return host, false, nil
}

// resolveCanonicalize is ssh.c's resolve_canonicalize: an address is
// written as getnameinfo writes it; a name with at most
// CanonicalizeMaxDots dots is tried with each of CanonicalDomains.
func (c *canonicalizer) resolveCanonicalize(host, mode string) (string, bool, error) {
	if a, ok := numericAddr(host); ok {
		if !strings.EqualFold(a, host) {
			host = a
		}
		return host, true, nil
	}
	if isAddrFast(host) || mode == "no" {
		return host, false, nil
	}
	direct := c.st.direct()
	if !direct && mode != "always" {
		return host, false, nil
	}
	var candidates []string
	switch {
	case strings.HasSuffix(host, "."):
		candidates = []string{host}
	case strings.Count(host, ".") > c.st.maxDots():
		return host, false, nil
	default:
		for _, d := range c.st.domains() {
			candidates = append(candidates, host+"."+d+".")
		}
	}
	for _, full := range candidates {
		cn, err := c.lookup(full)
		if errors.Is(err, errCanonDeferred) {
			return host, false, err
		}
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(full, ".")
		return c.followCNAME(direct, name, cn), true, nil
	}
	if s := c.st.get("canonicalizefallbacklocal"); s != nil {
		if local, _ := parseFlag(s.args[0]); !local {
			return "", false, s.errorf("CanonicalizeFallbackLocal no: could not resolve host %q in any of CanonicalDomains (ssh refuses too)", host)
		}
	}
	return host, false, nil
}

// followCNAME is ssh.c's check_follow_cname: name becomes its canonical
// name when a CanonicalizePermittedCNAMEs rule allows it.
func (c *canonicalizer) followCNAME(direct bool, name, cname string) string {
	rules := c.st.permittedCNAMEs()
	if cname == "" || rules == nil || name == cname || c.st.canonMode() == "no" {
		return name
	}
	if !direct && c.st.canonMode() != "always" {
		return name
	}
	for _, r := range rules {
		if matchPatternList(name, r[0], true) == 1 && matchPatternList(cname, r[1], true) == 1 {
			return cname
		}
	}
	return name
}

// domains is CanonicalDomains, lower case, up to a "none".
func (st *state) domains() []string {
	s := st.get("canonicaldomains")
	if s == nil {
		return nil
	}
	var out []string
	for _, a := range s.args {
		if strings.EqualFold(a, "none") {
			break
		}
		out = append(out, strings.TrimSuffix(strings.ToLower(a), "."))
	}
	return out
}

func (st *state) maxDots() int {
	if s := st.get("canonicalizemaxdots"); s != nil {
		n, _ := parseCount(s.args[0])
		return n
	}
	return 1
}

// permittedCNAMEs is CanonicalizePermittedCNAMEs as [source, target]
// pattern lists (lower case); nil when unset or "none".
func (st *state) permittedCNAMEs() [][2]string {
	s := st.get("canonicalizepermittedcnames")
	if s == nil || strings.EqualFold(s.args[0], "none") {
		return nil
	}
	var out [][2]string
	for _, a := range s.args {
		if a == "*" {
			out = append(out, [2]string{"*", "*"})
			continue
		}
		src, dst, _ := strings.Cut(strings.ToLower(a), ":")
		out = append(out, [2]string{src, dst})
	}
	return out
}

// validDomain is misc.c's valid_domain (a trailing dot allowed).
func validDomain(name string) error {
	switch {
	case name == "":
		return errors.New("empty domain name")
	case !isAlnum(name[0]):
		return fmt.Errorf("domain name %q starts with invalid character", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("domain name %q contains consecutive separators", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != '.' && c != '-' && c != '_' && !isAlnum(c) {
			return fmt.Errorf("domain name %q contains invalid characters", name)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// systemResolver is net.DefaultResolver, the system's.
var systemResolver Resolver = net.DefaultResolver
