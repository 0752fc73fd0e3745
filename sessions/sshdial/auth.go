// Authentication: ssh-agent's keys, then identity files, a passphrase
// asked for only once the server accepted the key.

package sshdial

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/perchdesk/perch/sessions/sshconf"
)

// identityFile is an identity file as loaded once per Dial.
type identityFile struct {
	path      string
	pub       ssh.PublicKey // nil if unknown (encrypted, no .pub)
	signer    ssh.Signer    // nil until decrypted
	raw       []byte        // the encrypted key
	encrypted bool
	skip      string // why it cannot be offered, if so

	once sync.Once
	err  error // decryption's outcome
}

// keyCache loads identity files and asks for passphrases at most once per
// key per Dial, across jump hosts.
type keyCache struct {
	passphrase func(keyFile string) ([]byte, error)
	mu         sync.Mutex
	ids        map[string]*identityFile
}

func (kc *keyCache) load(path string) *identityFile {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if id, ok := kc.ids[path]; ok {
		return id
	}
	id := &identityFile{path: path}
	kc.ids[path] = id
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			id.skip = fmt.Sprintf("key %s does not exist", path)
		} else {
			id.skip = fmt.Sprintf("key %s cannot be read: %v", path, err)
		}
		return id
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		id.signer, id.pub = signer, signer.PublicKey()
	case errors.As(err, &missing):
		id.encrypted, id.raw, id.pub = true, data, missing.PublicKey
		if id.pub == nil {
			if b, err := os.ReadFile(path + ".pub"); err == nil {
				if pub, _, _, _, err := ssh.ParseAuthorizedKey(b); err == nil {
					id.pub = pub
				}
			}
		}
	default:
		id.skip = fmt.Sprintf("key %s is not a private key perch can read: %v", path, err)
	}
	return id
}

// decrypt asks for id's passphrase (once) and decrypts it.
func (kc *keyCache) decrypt(id *identityFile, wd *dialWatchdog) (ssh.Signer, error) {
	id.once.Do(func() {
		resume := wd.pause()
		pass, err := kc.passphrase(id.path)
		resume()
		if err != nil {
			id.err = fmt.Errorf("key %s: no passphrase: %w", id.path, err)
			return
		}
		signer, err := ssh.ParsePrivateKeyWithPassphrase(id.raw, pass)
		clear(pass)
		switch {
		case errors.Is(err, x509.IncorrectPasswordError):
			id.err = fmt.Errorf("key %s: wrong passphrase: %w", id.path, err)
		case err != nil:
			id.err = fmt.Errorf("key %s: %w", id.path, err)
		case id.pub != nil && string(id.pub.Marshal()) != string(signer.PublicKey().Marshal()):
			id.err = fmt.Errorf("key %s does not match its public key %s.pub", id.path, id.path)
		default:
			id.signer, id.pub = signer, signer.PublicKey()
		}
	})
	return id.signer, id.err
}

// authState gathers the keys for one connection and remembers what was
// offered and why some were not, for the error message.
type authState struct {
	keys *keyCache
	t    *sshconf.Target
	o    Options
	wd   *dialWatchdog

	// the host key's check: when it ended and its answer (written once,
	// in the handshake, read after it)
	hostKeyAt  time.Time
	hostKeyErr error

	mu      sync.Mutex
	agent   net.Conn
	offered []string
	skipped []string
	err     error // a failure that ended authentication (a passphrase)
}

// signers is the ssh.PublicKeysCallback: agent keys, then identity files.
func (as *authState) signers() ([]ssh.Signer, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	var ids []*identityFile
	for _, p := range as.t.IdentityFiles {
		id := as.keys.load(p)
		if id.skip != "" {
			as.skipped = append(as.skipped, id.skip)
			continue
		}
		ids = append(ids, id)
	}
	var out []ssh.Signer
	seen := map[string]bool{}
	sock := as.o.AgentSocket
	switch {
	case sock != "":
	case as.t.IdentityAgent == "none":
	case as.t.IdentityAgent != "":
		sock = as.t.IdentityAgent
	default:
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && as.agent == nil {
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			as.skipped = append(as.skipped, fmt.Sprintf("ssh-agent at %s is not reachable: %v", sock, err))
		} else {
			as.agent = c
			as.wd.add(c)
			agentSigners, err := agent.NewClient(c).Signers()
			if err != nil {
				as.skipped = append(as.skipped, fmt.Sprintf("ssh-agent at %s: %v", sock, err))
			}
			for _, s := range agentSigners {
				blob := string(s.PublicKey().Marshal())
				if as.t.IdentitiesOnly && !matchesIdentity(blob, ids) {
					continue
				}
				seen[blob] = true
				out = append(out, s)
				as.offered = append(as.offered, "ssh-agent key "+ssh.FingerprintSHA256(s.PublicKey()))
			}
		}
	}
	for _, id := range ids {
		if id.pub != nil && seen[string(id.pub.Marshal())] {
			continue // ssh-agent holds it and offered it already
		}
		switch {
		case id.signer != nil:
			out = append(out, id.signer)
		case as.o.Passphrase == nil:
			as.skipped = append(as.skipped, fmt.Sprintf("key %s is encrypted and perch runs without a prompt: load it into ssh-agent with `ssh-add %s`", id.path, id.path))
			continue
		case id.pub != nil:
			out = append(out, &promptSigner{id: id, as: as})
		default:
			// Without its public key the key must be decrypted to be offered.
			if _, err := as.keys.decrypt(id, as.wd); err != nil {
				as.err = err
				return nil, err
			}
			out = append(out, id.signer)
		}
		if id.pub != nil {
			seen[string(id.pub.Marshal())] = true
		}
		as.offered = append(as.offered, "key "+id.path)
	}
	return as.withCertificates(out), nil
}

// withCertificates puts before each key the certificates for it, as ssh
// offers them: CertificateFile, and IdentityFile's "-cert.pub" beside it.
// A file that is missing is skipped, as ssh skips it.
func (as *authState) withCertificates(keys []ssh.Signer) []ssh.Signer {
	files := slices.Clone(as.t.CertificateFiles)
	for _, p := range as.t.IdentityFiles {
		if !slices.Contains(files, p+"-cert.pub") {
			files = append(files, p+"-cert.pub")
		}
	}
	var certs []*ssh.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(data)
		c, ok := k.(*ssh.Certificate)
		if err != nil || !ok {
			as.skipped = append(as.skipped, fmt.Sprintf("certificate %s is not an OpenSSH certificate", f))
			continue
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return keys
	}
	var out []ssh.Signer
	for _, k := range keys {
		for _, c := range certs {
			if string(c.Key.Marshal()) != string(k.PublicKey().Marshal()) {
				continue
			}
			if cs, err := ssh.NewCertSigner(c, k); err == nil {
				out = append(out, cs)
				as.offered = append(as.offered, "certificate "+c.KeyId)
			}
		}
		out = append(out, k)
	}
	return out
}

func matchesIdentity(blob string, ids []*identityFile) bool {
	for _, id := range ids {
		if id.pub != nil && string(id.pub.Marshal()) == blob {
			return true
		}
	}
	return false
}

// describe says what authentication offered, for an auth failure.
func (as *authState) describe() string {
	as.mu.Lock()
	defer as.mu.Unlock()
	msg := fmt.Sprintf("the server refused authentication as %q", as.t.User)
	if len(as.offered) > 0 {
		msg += " (offered: " + strings.Join(as.offered, ", ") + ")"
	} else {
		msg += " (perch had no key to offer: no ssh-agent and no usable identity file)"
	}
	if len(as.skipped) > 0 {
		msg += "; not offered: " + strings.Join(as.skipped, "; ")
	}
	return msg
}

func (as *authState) close() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.agent != nil {
		as.agent.Close()
	}
}

// promptSigner is an encrypted identity file offered by its public key; its
// passphrase is asked for when the server accepted the key and a
// signature is needed.
type promptSigner struct {
	id *identityFile
	as *authState
}

func (s *promptSigner) PublicKey() ssh.PublicKey { return s.id.pub }

func (s *promptSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(rand, data, "")
}

func (s *promptSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	signer, err := s.as.keys.decrypt(s.id, s.as.wd)
	if err != nil {
		s.as.mu.Lock()
		s.as.err = err
		s.as.mu.Unlock()
		return nil, err
	}
	if algorithm == "" {
		return signer.Sign(rand, data)
	}
	as, ok := signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("key %s cannot sign with %s", s.id.path, algorithm)
	}
	return as.SignWithAlgorithm(rand, data, algorithm)
}
