// Package hostkey decides host keys as OpenSSH's ssh(1) does
// (sshconnect.c check_host_key, hostfile.c): UserKnownHostsFile and
// GlobalKnownHostsFile, hashed names, [host]:port and port-less entries,
// patterns and negation, @revoked, @cert-authority with host certificates,
// RevokedHostKeys, HostKeyAlias and the HostKeyAlgorithms order that makes
// a host known by another key type a changed key. perch is stricter than
// ssh in one way: it never connects past a changed or revoked key, not even
// under StrictHostKeyChecking no.
package hostkey

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/sshconf"
)

// Host key policies: StrictHostKeyChecking yes, accept-new, ask and no.
// PolicyNo records an unknown key as accept-new does; a changed or
// revoked key is still refused (ssh would connect, but with X11, agent and
// port forwarding turned off, which is everything perch carries).
const (
	PolicyStrict    = "strict"
	PolicyAcceptNew = "accept-new"
	PolicyAsk       = "ask"
	PolicyNo        = "no"
)

// Kinds of *HostKeyError.
const (
	HostKeyChanged = "changed"
	HostKeyUnknown = "unknown"
	HostKeyRevoked = "revoked"
)

// HostKeyError is a host key perch refuses.
type HostKeyError struct {
	Host        string        // the name looked up: HostKeyAlias, or "host", or "[host]:port" when the port is not 22
	Fingerprint string        // of the key the server presented, "SHA256:..." as ssh-keygen -l prints it
	Kind        string        // "changed", "unknown" or "revoked"
	File        string        // "changed", "revoked": the file of the offending line; "unknown": where the key would go
	Line        int           // "changed", "revoked": the offending line in File (0: the whole RevokedHostKeys file)
	Key         ssh.PublicKey // the key the server presented
	// StrictNo: the host has StrictHostKeyChecking no, under which ssh
	// connects past a changed or revoked key with forwarding turned off.
	StrictNo bool
}

// strictNoNote explains a refusal under StrictHostKeyChecking no.
const strictNoNote = "; StrictHostKeyChecking is no, and ssh would connect anyway but turn off X11 forwarding, " +
	"agent and port forwarding to avoid man-in-the-middle attacks: that is everything perch carries, so perch refuses"

// Error words the refusal as OpenSSH would, with the fix.
func (e *HostKeyError) Error() string {
	note := ""
	if e.StrictNo {
		note = strictNoNote
	}
	switch e.Kind {
	case HostKeyChanged:
		return fmt.Sprintf("host key for %s has changed (now %s); the known key is at %s:%d%s — if the server was really reinstalled, remove that line",
			e.Host, e.Fingerprint, e.File, e.Line, note)
	case HostKeyRevoked:
		if e.Line == 0 {
			return fmt.Sprintf("host key for %s (%s) is revoked by %s (RevokedHostKeys); refusing to connect", e.Host, e.Fingerprint, e.File)
		}
		return fmt.Sprintf("host key for %s (%s) is revoked by %s:%d; refusing to connect%s", e.Host, e.Fingerprint, e.File, e.Line, note)
	}
	where := e.File
	if where == "" {
		where = "a known_hosts file (UserKnownHostsFile is none: nothing can be recorded)"
	}
	return fmt.Sprintf("host key for %s is not known (%s); add it to %s (e.g. ssh-keyscan), or set known_hosts = \"accept-new\"",
		e.Host, e.Fingerprint, where)
}

// Prompt asks a person about an unknown host key.
type Prompt func(host string, key ssh.PublicKey) (accept, remember bool, err error)

// Policy is the host key policy perch applies to t: perch's own setting
// when given ("strict" or "accept-new"), else ssh_config's
// StrictHostKeyChecking (yes: strict, accept-new, no, ask or unset: ask).
func Policy(perch string, t *sshconf.Target) string {
	if perch != "" {
		return perch
	}
	switch t.StrictHostKeyChecking {
	case "yes":
		return PolicyStrict
	case "accept-new":
		return PolicyAcceptNew
	case "no":
		return PolicyNo
	}
	return PolicyAsk
}

// HostKeys builds the host key callback for t and the host key algorithms
// to offer, in ssh's order. policy "" is Policy("", t). An unknown key is
// recorded in the first UserKnownHostsFile (hashed with HashKnownHosts)
// with accept-new, asked about with ask (refused without prompt), refused
// with strict. A changed or revoked key is always refused. Refusals are
// *HostKeyError.
func HostKeys(t *sshconf.Target, policy string, prompt Prompt) (ssh.HostKeyCallback, []string, error) {
	if policy == "" {
		policy = Policy("", t)
	}
	switch policy {
	case PolicyStrict, PolicyAcceptNew, PolicyAsk, PolicyNo:
	default:
		return nil, nil, fmt.Errorf("unknown host key policy %q (want %q or %q)", policy, PolicyStrict, PolicyAcceptNew)
	}
	files := append(append([]string{}, t.KnownHostsFiles...), t.GlobalKnownHostsFiles...)
	name := lookupName(t.HostKeyAlias, t.HostName, t.Port)
	entries, err := load(name, files)
	if err != nil {
		return nil, nil, err
	}
	var portless []entry
	if t.HostKeyAlias == "" && t.Port != 22 {
		if portless, err = load(t.HostName, files); err != nil {
			return nil, nil, err
		}
	}
	revoked, err := readRevoked(t.RevokedHostKeys)
	if err != nil {
		return nil, nil, err
	}
	d := &decider{t: t, policy: policy, prompt: prompt, name: name, entries: entries, portless: portless, revoked: revoked}
	return d.callback, order(t, entries), nil
}

type decider struct {
	t        *sshconf.Target
	policy   string
	prompt   Prompt
	name     string
	entries  []entry // lines naming name
	portless []entry // lines naming the host without its port (port not 22, no alias)
	revoked  []ssh.PublicKey
}

func (d *decider) callback(_ string, _ net.Addr, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	refuse := func(kind string, e *entry) error {
		he := &HostKeyError{Host: d.name, Fingerprint: fp, Kind: kind, Key: key, StrictNo: d.policy == PolicyNo}
		if e != nil {
			he.File, he.Line = e.file, e.line
		}
		return he
	}
	for _, r := range d.revoked {
		c, isCert := key.(*ssh.Certificate)
		if sameKey(key, r) || isCert && sameKey(c.SignatureKey, r) {
			return &HostKeyError{Host: d.name, Fingerprint: fp, Kind: HostKeyRevoked, File: d.t.RevokedHostKeys, Key: key}
		}
	}
	if cert, ok := key.(*ssh.Certificate); ok {
		status, e := check(d.entries, cert)
		if status == statusRevoked {
			return refuse(HostKeyRevoked, e)
		}
		principal := d.t.HostKeyAlias
		if principal == "" {
			principal = d.t.HostName
		}
		if status == statusOK && certValid(cert, principal) == nil {
			return nil
		}
		// No CA for it, or an invalid certificate: ssh retries with the
		// plain key.
		key = cert.Key
		fp = ssh.FingerprintSHA256(key)
	}
	switch status, e := check(d.entries, key); status {
	case statusOK:
		return nil
	case statusRevoked:
		return refuse(HostKeyRevoked, e)
	case statusChanged:
		return refuse(HostKeyChanged, e)
	}
	if d.portless != nil {
		if status, _ := check(d.portless, key); status == statusOK {
			return nil // "found matching key w/out port"
		}
	}
	return d.unknown(key, fp)
}

// unknown decides a key no line names, by the policy.
func (d *decider) unknown(key ssh.PublicKey, fp string) error {
	writeTo := ""
	if len(d.t.KnownHostsFiles) > 0 {
		writeTo = d.t.KnownHostsFiles[0]
	}
	refused := &HostKeyError{Host: d.name, Fingerprint: fp, Kind: HostKeyUnknown, File: writeTo, Key: key}
	remember := false
	switch {
	case writeTo == "" || strings.ContainsAny(d.t.HostName, "@?*#[]|'\"\\"):
		return refused // ssh: read-only, cannot record
	case d.policy == PolicyAcceptNew || d.policy == PolicyNo:
		remember = true
	case d.policy == PolicyAsk && d.prompt != nil:
		ok, rem, err := d.prompt(d.name, key)
		if err != nil {
			return fmt.Errorf("ask about the host key for %s: %w", d.name, err)
		}
		if !ok {
			return refused
		}
		remember = rem
	default:
		return refused
	}
	if remember {
		if err := record(writeTo, d.name, key, d.t.HashKnownHosts); err != nil {
			// ssh goes on too ("Failed to add the host to the list of
			// known hosts"): the key was accepted by the policy.
			slog.Warn("host key accepted but not recorded", "host", d.name, "err", err)
		}
	}
	return nil
}

// certValid checks a host certificate as sshkey_cert_check_host does:
// a host certificate, valid now, for principal (any, if it lists none).
func certValid(cert *ssh.Certificate, principal string) error {
	if cert.CertType != ssh.HostCert {
		return errors.New("not a host certificate")
	}
	c := &ssh.CertChecker{Clock: time.Now}
	if len(cert.ValidPrincipals) == 0 {
		principal = ""
	}
	return c.CheckCert(principal, cert)
}

// readRevoked reads a RevokedHostKeys file of public keys (as ssh does, a
// file it cannot read refuses every key; a binary KRL is not read by perch).
func readRevoked(file string) ([]ssh.PublicKey, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("RevokedHostKeys: %w (ssh refuses to connect too)", err)
	}
	if bytes.HasPrefix(data, []byte("SSHKRL\n")) {
		return nil, fmt.Errorf("RevokedHostKeys %s is a KRL; perch reads a list of public keys only", file)
	}
	var keys []ssh.PublicKey
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			break
		}
		keys, rest = append(keys, k), r
	}
	return keys, nil
}

// knownHostsMu serialises appends to known_hosts files within the process.
var knownHostsMu sync.Mutex

// record appends host's key to file (created 0600, its directory 0700),
// the name hashed when hash is set.
func record(file, host string, key ssh.PublicKey, hash bool) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	salt := make([]byte, 20)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("remember host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("remember host key: %w", err)
	}
	line := hashedLine(host, key, hash, salt) + "\n"
	// Start on a fresh line if the file does not end with one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); (err == nil || err == io.EOF) && last[0] != '\n' {
			line = "\n" + line
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
