package hostkey

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/perchdesk/perch/sessions/sshconf"
)

// Markers of known_hosts lines.
const (
	markNone    = ""
	markCA      = "@cert-authority"
	markRevoked = "@revoked"
)

// entry is a known_hosts line that names the host looked up.
type entry struct {
	marker string
	key    ssh.PublicKey
	file   string
	line   int
}

// lookupName is the name ssh looks a host up by (get_hostfile_hostname):
// HostKeyAlias if set, else the host name, as "[host]:port" when the port
// is not 22 (port 0: port-less).
func lookupName(alias, host string, port int) string {
	if alias != "" {
		return alias
	}
	if port == 0 || port == 22 {
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// load reads the lines of files that name host, as hostkeys_foreach with
// HKF_WANT_MATCH does: a hashed name is compared by its HMAC, a pattern
// list with OpenSSH's match_hostname (case-insensitive, negation wins).
// Lines that do not parse are skipped, as ssh skips them; a missing or
// unreadable file (or a directory) holds nothing.
func load(host string, files []string) ([]entry, error) {
	var out []entry
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// ssh skips a file it cannot open or read (a directory, no
			// permission) with a debug line, and so does perch.
			slog.Debug("known_hosts file skipped", "file", f, "err", err)
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			if e, ok := parseLine(sc.Text(), host); ok {
				e.file, e.line = f, n
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// parseLine parses one known_hosts line and reports whether it names host.
func parseLine(text, host string) (entry, bool) {
	f := strings.Fields(text)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return entry{}, false
	}
	var e entry
	if strings.HasPrefix(f[0], "@") {
		if f[0] != markCA && f[0] != markRevoked {
			return e, false
		}
		e.marker, f = f[0], f[1:]
	}
	if len(f) < 3 || !hostMatches(f[0], host) {
		return e, false
	}
	blob, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		return e, false
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil || key.Type() != f[1] {
		return e, false
	}
	e.key = key
	return e, true
}

// hostMatches compares a known_hosts host field with host.
func hostMatches(field, host string) bool {
	if strings.HasPrefix(field, "|1|") {
		parts := strings.Split(field[3:], "|")
		if len(parts) != 2 {
			return false
		}
		salt, err1 := base64.StdEncoding.DecodeString(parts[0])
		want, err2 := base64.StdEncoding.DecodeString(parts[1])
		if err1 != nil || err2 != nil || len(salt) != sha1.Size {
			return false
		}
		return hmac.Equal(hashHost(host, salt), want)
	}
	return sshconf.MatchHostname(host, field) == 1
}

func hashHost(host string, salt []byte) []byte {
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(host))
	return m.Sum(nil)
}

// sameKey compares public keys as sshkey_equal_public does (a certificate
// compares by its key).
func sameKey(a, b ssh.PublicKey) bool {
	return bytes.Equal(plain(a).Marshal(), plain(b).Marshal())
}

func plain(k ssh.PublicKey) ssh.PublicKey {
	if c, ok := k.(*ssh.Certificate); ok {
		return c.Key
	}
	return k
}

// Statuses of a host key, as hostfile.h HostStatus.
const (
	statusOK = iota
	statusNew
	statusChanged
	statusRevoked
)

// check is check_hostkeys_by_key_or_type for key: a certificate is
// checked against @cert-authority lines, a plain key against plain lines
// (a different key, of any type, is a change); @revoked lines naming the
// host (the key, or a certificate's key or CA) win. found is the deciding line.
func check(entries []entry, key ssh.PublicKey) (status int, found *entry) {
	status = statusNew
	cert, isCert := key.(*ssh.Certificate)
	want := markNone
	if isCert {
		want = markCA
	}
	for i := range entries {
		e := &entries[i]
		if e.marker != want {
			continue
		}
		if isCert {
			if sameKey(cert.SignatureKey, e.key) {
				status, found = statusOK, e
				break
			}
			continue
		}
		if sameKey(key, e.key) && key.Type() == e.key.Type() {
			status, found = statusOK, e
			break
		}
		status, found = statusChanged, e
	}
	for i := range entries {
		e := &entries[i]
		if e.marker == markRevoked && (sameKey(key, e.key) || isCert && sameKey(cert.SignatureKey, e.key)) {
			return statusRevoked, e
		}
	}
	return status, found
}

// hashedLine is a known_hosts line for host, its name hashed as ssh's
// HashKnownHosts does when hash is set.
func hashedLine(host string, key ssh.PublicKey, hash bool, salt []byte) string {
	name := host
	if hash {
		name = "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(hashHost(host, salt))
	}
	if key == nil {
		return name
	}
	return name + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// HashedName is host as HashKnownHosts writes it, with salt (20 bytes).
func HashedName(host string, salt []byte) string {
	return strings.Fields(hashedLine(host, nil, true, salt))[0]
}
