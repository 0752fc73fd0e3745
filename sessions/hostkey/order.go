package hostkey

import (
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/sshconf"
)

// order is the host key algorithms to offer, as sshconnect2.c does: a
// HostKeyAlgorithms list given whole is offered as is; otherwise (unset,
// or "+"/"-" edits) the algorithms of keys known for the host come first,
// keeping the list's order (every certificate algorithm when a CA is
// known), unless the first one already has a known key. Algorithms x/crypto
// does not implement are left out.
func order(t *sshconf.Target, entries []entry) []string {
	list := t.HostKeyAlgorithms
	if list == nil {
		list = sshconf.DefaultHostKeyAlgorithms
	}
	if !t.HostKeyAlgorithmsExact && !known(entries, list[0]) {
		ca := slices.ContainsFunc(entries, func(e entry) bool { return e.marker == markCA })
		var first, last []string
		for _, a := range list {
			if ca && isCertAlg(a) || known(entries, a) {
				first = append(first, a)
			} else {
				last = append(last, a)
			}
		}
		list = append(first, last...)
	}
	supported := append(ssh.SupportedAlgorithms().HostKeys, ssh.InsecureAlgorithms().HostKeys...)
	return slices.DeleteFunc(slices.Clone(list), func(a string) bool { return !slices.Contains(supported, a) })
}

func isCertAlg(a string) bool { return strings.Contains(a, "-cert-v01@openssh.com") }

// known reports a plain known key whose type verifies algorithm a.
func known(entries []entry, a string) bool {
	kt := keyType(a)
	return slices.ContainsFunc(entries, func(e entry) bool { return e.marker == markNone && e.key.Type() == kt })
}

// keyType is the plain key type an algorithm verifies with.
func keyType(a string) string {
	a = strings.Replace(a, "-cert-v01@openssh.com", "", 1)
	switch {
	case a == "rsa-sha2-256" || a == "rsa-sha2-512" || a == "ssh-rsa":
		return ssh.KeyAlgoRSA
	case strings.HasPrefix(a, "sk-ssh-ed25519"):
		return ssh.KeyAlgoSKED25519
	case strings.HasPrefix(a, "sk-ecdsa") || strings.HasPrefix(a, "webauthn-sk-ecdsa"):
		return ssh.KeyAlgoSKECDSA256
	case a == "ssh-ed25519" || strings.HasPrefix(a, "ecdsa-sha2-") || a == "ssh-dss":
		return a
	}
	return a
}
