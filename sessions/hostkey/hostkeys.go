// Host key verification against known_hosts, always on.

package hostkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/perchdesk/perch/sessions/sshconf"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host key policies, as StrictHostKeyChecking yes and accept-new.
const (
	PolicyStrict    = "strict"
	PolicyAcceptNew = "accept-new"
)

// Kinds of *HostKeyError.
const (
	HostKeyChanged = "changed"
	HostKeyUnknown = "unknown"
	HostKeyRevoked = "revoked"
)

// HostKeyError is a host key perch refuses.
type HostKeyError struct {
	Host        string        // as written in known_hosts: "host", or "[host]:port" when the port is not 22
	Fingerprint string        // of the key the server presented, "SHA256:..." as ssh-keygen -l prints it
	Kind        string        // "changed", "unknown" or "revoked"
	File        string        // "changed", "revoked": the known_hosts file of the offending line; "unknown": where the key would go
	Line        int           // "changed", "revoked": the offending line in File
	Key         ssh.PublicKey // the key the server presented
}

// Error words the refusal as OpenSSH would, with the fix.
func (e *HostKeyError) Error() string {
	switch e.Kind {
	case HostKeyChanged:
		return fmt.Sprintf("host key for %s has changed (now %s); the known key is at %s:%d — if the server was really reinstalled, remove that line",
			e.Host, e.Fingerprint, e.File, e.Line)
	case HostKeyRevoked:
		return fmt.Sprintf("host key for %s (%s) is revoked by %s:%d; refusing to connect", e.Host, e.Fingerprint, e.File, e.Line)
	}
	where := e.File
	if where == "" {
		where = "a known_hosts file (UserKnownHostsFile)"
	}
	return fmt.Sprintf("host key for %s is not known (%s); add it to %s (e.g. ssh-keyscan), or set known_hosts = \"accept-new\"",
		e.Host, e.Fingerprint, where)
}

// HostKeys builds the host key callback for t and the HostKeyAlgorithms
// to offer: the algorithms of the keys already known for this host, so a
// server preferring another algorithm is not mistaken for a changed key
// (golang/go#49631); nil when none are known.
//
// policy is "strict" or "accept-new", as StrictHostKeyChecking yes and
// accept-new. Empty means "strict", unless ssh_config set
// StrictHostKeyChecking to accept-new or no: then "accept-new" (perch never
// connects past a changed key, whatever ssh_config says). The host is looked up as
// dialled: t.HostName, as "[host]:port" when the port is not 22. A key
// that changed or is revoked is always refused. An unknown key is, with
// "accept-new", appended to the first of t.KnownHostsFiles (created 0600,
// its directory 0700) and accepted; with "strict" prompt decides (accept
// once, accept and remember, or refuse), or, when prompt is nil, it is
// refused. Refusals are *HostKeyError.
func HostKeys(t *sshconf.Target, policy string, prompt func(host string, key ssh.PublicKey) (accept, remember bool, err error)) (ssh.HostKeyCallback, []string, error) {
	switch policy {
	case "":
		policy = PolicyStrict
		if t.StrictHostKeyChecking == "accept-new" || t.StrictHostKeyChecking == "no" {
			policy = PolicyAcceptNew
		}
	case PolicyStrict, PolicyAcceptNew:
	default:
		return nil, nil, fmt.Errorf("unknown host key policy %q (want %q or %q)", policy, PolicyStrict, PolicyAcceptNew)
	}
	addr := t.Addr()
	host := knownhosts.Normalize(addr)
	var files []string
	for _, f := range t.KnownHostsFiles {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("known hosts file: %w", err)
		}
	}
	var db ssh.HostKeyCallback
	if len(files) > 0 {
		var err error
		if db, err = knownhosts.New(files...); err != nil {
			return nil, nil, fmt.Errorf("read known hosts: %w", err)
		}
	}
	writeTo := ""
	if len(t.KnownHostsFiles) > 0 {
		writeTo = t.KnownHostsFiles[0]
	}

	cb := func(_ string, testRemoteAddr net.Addr, key ssh.PublicKey) error {
		if testRemoteAddr == nil {
			testRemoteAddr = &net.TCPAddr{IP: net.IPv4zero}
		}
		if db != nil {
			err := db(addr, testRemoteAddr, key)
			if err == nil {
				return nil
			}
			var revoked *knownhosts.RevokedError
			var keyErr *knownhosts.KeyError
			switch {
			case errors.As(err, &revoked):
				return &HostKeyError{Host: host, Fingerprint: ssh.FingerprintSHA256(key), Kind: HostKeyRevoked,
					File: revoked.Revoked.Filename, Line: revoked.Revoked.Line, Key: key}
			case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
				known := keyErr.Want[0]
				for _, w := range keyErr.Want {
					if w.Key.Type() == key.Type() {
						known = w
						break
					}
				}
				return &HostKeyError{Host: host, Fingerprint: ssh.FingerprintSHA256(key), Kind: HostKeyChanged,
					File: known.Filename, Line: known.Line, Key: key}
			case errors.As(err, &keyErr):
				// Unknown: decided below.
			default:
				return fmt.Errorf("check host key for %s: %w", host, err)
			}
		}
		unknown := &HostKeyError{Host: host, Fingerprint: ssh.FingerprintSHA256(key), Kind: HostKeyUnknown, File: writeTo, Key: key}
		remember := false
		switch {
		case policy == PolicyAcceptNew:
			remember = true
		case prompt != nil:
			ok, rem, err := prompt(host, key)
			if err != nil {
				return fmt.Errorf("ask about the host key for %s: %w", host, err)
			}
			if !ok {
				return unknown
			}
			remember = rem
		default:
			return unknown
		}
		if remember {
			if writeTo == "" {
				return fmt.Errorf("cannot remember the host key for %s: UserKnownHostsFile is none", host)
			}
			if err := appendKnownHost(writeTo, addr, key); err != nil {
				return err
			}
		}
		return nil
	}

	var algos []string
	if db != nil {
		err := db(addr, &net.TCPAddr{IP: net.IPv4zero}, throwawayKey())
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) {
			for _, w := range keyErr.Want {
				for _, a := range hostKeyAlgorithms(w.Key.Type()) {
					if !slices.Contains(algos, a) {
						algos = append(algos, a)
					}
				}
			}
		}
	}
	return cb, algos, nil
}

// hostKeyAlgorithms lists the algorithms that verify with a key of type t.
func hostKeyAlgorithms(t string) []string {
	if t == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{t}
}

// throwawayKey is a key no known_hosts file holds, to list the known ones.
var throwawayKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// knownHostsMu serialises appends to known_hosts files within the process.
var knownHostsMu sync.Mutex

// appendKnownHost adds "host key" to file, creating it (0600) and its
// directory (0700) if needed.
func appendKnownHost(file, addr string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("remember host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("remember host key: %w", err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	// Start on a fresh line if the file does not end with one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil || err == io.EOF {
			if last[0] != '\n' {
				line = "\n" + line
			}
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("remember host key in %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("remember host key in %s: %w", file, err)
	}
	return nil
}
