package sshconf

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultHostKeyAlgorithms is OpenSSH 9.2's default HostKeyAlgorithms.
var DefaultHostKeyAlgorithms = strings.Split("ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"+
	"ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,"+
	"sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"+
	"rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,"+
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"+
	"sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256", ",")

// allHostKeyAlgorithms are the names OpenSSH knows, in its own order
// (sshkey.c keyimpls), which is the order a pattern expands in.
var allHostKeyAlgorithms = strings.Split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,"+
	"sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,"+
	"ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,"+
	"ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,"+
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,"+
	"ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,"+
	"rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com", ",")

// hostKeyAlgorithms applies a HostKeyAlgorithms value to ssh's default
// list as kex_assemble_names does: "+list" appends, "-list" removes
// (patterns allowed), "^list" puts first, else the list (patterns allowed)
// replaces it.
func hostKeyAlgorithms(v string) ([]string, error) {
	if v == "" {
		return nil, fmt.Errorf("empty list")
	}
	op, list := v[0], v[1:]
	if op != '+' && op != '-' && op != '^' {
		op, list = '=', v
	}
	var named []string
	for _, p := range strings.Split(list, ",") {
		if p == "" {
			continue // ssh skips empty entries
		}
		found := false
		for _, a := range allHostKeyAlgorithms {
			if matchPatternList(a, p, false) == 1 {
				found = true
				if !slices.Contains(named, a) {
					named = append(named, a)
				}
			}
		}
		if !found && op != '-' {
			return nil, fmt.Errorf("bad key types %q", v)
		}
	}
	def := DefaultHostKeyAlgorithms
	var out []string
	switch op {
	case '+':
		out = slices.Clone(def)
		for _, a := range named {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	case '-':
		out = slices.DeleteFunc(slices.Clone(def), func(a string) bool { return slices.Contains(named, a) })
	case '^':
		out = slices.Clone(named)
		for _, a := range def {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	default:
		for _, p := range strings.Split(list, ",") {
			for _, a := range allHostKeyAlgorithms {
				if matchPatternList(a, p, false) == 1 && !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q leaves no algorithm", v)
	}
	return out, nil
}
