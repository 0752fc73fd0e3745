package sshconf

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// checkValue refuses a value ssh refuses, for the keywords perch reads
// (whether or not the line applies to the target, as ssh does).
func checkValue(s *setting) error {
	one := func() (string, error) {
		switch {
		case len(s.args) == 0 || s.args[0] == "":
			return "", s.errorf("%s: missing argument", s.key)
		case len(s.args) > 1:
			return "", s.errorf("%s: extra arguments at end of line (%q)", s.key, strings.Join(s.args[1:], " "))
		}
		return s.args[0], nil
	}
	var err error
	var v string
	switch s.key {
	case "hostname", "user", "hostkeyalias", "revokedhostkeys", "identityagent", "pkcs11provider", "identityfile", "certificatefile", "ignoreunknown", "tag":
		_, err = one()
	case "port":
		if v, err = one(); err == nil {
			_, err = parsePort(v)
		}
	case "identitiesonly", "hashknownhosts", "checkhostip", "proxyusefdpass", "canonicalizefallbacklocal", "batchmode":
		if v, err = one(); err == nil {
			_, err = parseFlag(v)
		}
	case "stricthostkeychecking":
		if v, err = one(); err == nil {
			_, err = parseStrict(v)
		}
	case "canonicalizehostname":
		if v, err = one(); err == nil && parseCanon(v) == "" {
			err = fmt.Errorf("bad value %q (want yes, no or always)", v)
		}
	case "serveraliveinterval", "connecttimeout":
		if v, err = one(); err == nil && v != "none" {
			_, err = parseTime(v)
		}
	case "canonicaldomains":
		err = checkDomains(s.args)
	case "canonicalizepermittedcnames":
		err = checkCNAMERules(s.args)
	case "serveralivecountmax", "canonicalizemaxdots":
		if v, err = one(); err == nil {
			_, err = parseCount(v)
		}
	case "hostkeyalgorithms":
		if v, err = one(); err == nil {
			_, err = hostKeyAlgorithms(v)
		}
	case "userknownhostsfile", "globalknownhostsfile":
		for _, a := range s.args {
			if strings.EqualFold(a, "none") && len(s.args) > 1 {
				err = fmt.Errorf("\"none\" appears with other entries")
			}
		}
	case "proxyjump":
		err = checkJump(s.raw)
	}
	if err != nil {
		if _, ok := err.(*Error); ok {
			return err
		}
		return s.errorf("%s: %v", s.key, err)
	}
	return nil
}

// timeNone reports a ConnectTimeout or ServerAliveInterval of "none",
// which leaves the option unset.
func timeNone(s *setting) bool {
	return (s.key == "connecttimeout" || s.key == "serveraliveinterval") && len(s.args) == 1 && s.args[0] == "none"
}

// parsePort is ssh's a2port: a number from 1 to 65535, or a service name.
func parsePort(s string) (int, error) {
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "+")); err == nil {
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("bad port %q (want 1 to 65535)", s)
		}
		return n, nil
	}
	// getservbyname is case-sensitive, Go's LookupPort is not.
	if n, err := net.LookupPort("tcp", s); err == nil && n > 0 && strings.Trim(s, "0123456789") != "" && s == strings.ToLower(s) {
		return n, nil
	}
	return 0, fmt.Errorf("bad port %q (want 1 to 65535 or a service name)", s)
}

func parseFlag(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("bad value %q (want yes or no)", s)
}

// parseStrict normalises a StrictHostKeyChecking value: yes, no, ask or
// accept-new.
func parseStrict(s string) (string, error) {
	switch v := strings.ToLower(s); v {
	case "yes", "true":
		return "yes", nil
	case "no", "false", "off":
		return "no", nil
	case "ask", "accept-new":
		return v, nil
	}
	return "", fmt.Errorf("bad value %q (want yes, accept-new, no or ask)", s)
}

func parseCanon(s string) string {
	switch v := strings.ToLower(s); v {
	case "yes", "true":
		return "yes"
	case "no", "false":
		return "no"
	case "always":
		return v
	}
	return ""
}

// parseCount is ssh's atoi_err: a whole number, 0 or more.
func parseCount(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad count %q (want a whole number, 0 or more)", s)
	}
	return int(n), nil
}

var timeRe = regexp.MustCompile(`^(\d+)([sSmMhHdDwW]?)`)

// parseTime is ssh's convtime: seconds, or a sequence like 1h30m with s,
// m, h, d, w units, at most INT_MAX seconds.
func parseTime(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad time %q (want seconds, or e.g. 30s, 5m, 1h30m)", s)
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	for rest := s; rest != ""; {
		m := timeRe.FindStringSubmatch(rest)
		if m == nil {
			return 0, bad
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, bad
		}
		unit := map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute,
			"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[strings.ToLower(m[2])]
		if limit := time.Duration(math.MaxInt32) * time.Second; n > int64((limit-total)/unit) {
			return 0, fmt.Errorf("time %q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[len(m[0]):]
	}
	return total, nil
}

// checkDomains checks CanonicalDomains as readconf.c does: valid domain
// names, "none" only alone.
func checkDomains(args []string) error {
	for _, a := range args {
		if a == "" {
			return fmt.Errorf("empty argument")
		}
		if strings.EqualFold(a, "none") && len(args) > 1 {
			return fmt.Errorf("\"none\" argument must appear alone")
		}
		if err := validDomain(a); err != nil {
			return err
		}
	}
	return nil
}

// checkCNAMERules checks CanonicalizePermittedCNAMEs: "none" alone, "*",
// or "sources:targets".
func checkCNAMERules(args []string) error {
	for _, a := range args {
		switch _, dst, ok := strings.Cut(a, ":"); {
		case strings.EqualFold(a, "none"):
			if len(args) > 1 {
				return fmt.Errorf("\"none\" argument must appear alone")
			}
		case a == "*":
		case !ok || dst == "":
			return fmt.Errorf("Invalid permitted CNAME %q", strings.ToLower(a))
		}
	}
	return nil
}
