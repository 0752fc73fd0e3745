package sshconf

import (
	"net/netip"
	"strconv"
	"strings"
)

// isAddrFast is ssh.c's is_addr_fast: a name that can only be an address
// (it has '%' or ':', or only digits and dots).
func isAddrFast(name string) bool {
	return strings.ContainsAny(name, "%:") || strings.Trim(name, "0123456789.") == ""
}

// isAddr is ssh.c's is_addr: isAddrFast, or a name getaddrinfo reads as
// one numeric address.
func isAddr(name string) bool {
	if isAddrFast(name) {
		return true
	}
	_, ok := numericAddr(name)
	return ok
}

// numericAddr is ssh.c's resolve_addr: the address name stands for, as
// getnameinfo(NI_NUMERICHOST) prints it (IPv6 compressed and lower-cased,
// IPv4 also from inet_aton's forms such as 127.1 or 0x7f.1). ok is false
// when name is not one numeric address.
func numericAddr(name string) (string, bool) {
	if strings.Contains(name, ":") {
		a, err := netip.ParseAddr(name)
		if err != nil || !a.Is6() {
			return "", false
		}
		return a.String(), true
	}
	if v, ok := inetAton(name); ok {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String(), true
	}
	return "", false
}

// inetAton is glibc's inet_aton: one to four parts, each decimal, octal
// (leading 0) or hexadecimal (0x), the last filling the remaining bytes.
func inetAton(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var v uint32
	for i, p := range parts {
		n, ok := atonPart(p)
		if !ok {
			return 0, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return 0, false
			}
			v |= uint32(n) << (8 * (3 - i))
			continue
		}
		if bits := 8 * (4 - i); bits < 32 && n >= 1<<bits {
			return 0, false
		}
		v |= uint32(n)
	}
	return v, true
}

func atonPart(p string) (uint64, bool) {
	base := 10
	switch {
	case p == "":
		return 0, false
	case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, false
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p[0] == '+' || p[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 32)
	return n, err == nil
}
