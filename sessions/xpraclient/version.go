package xpraclient

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Version is an xpra version, as `xpra --version` prints it ("xpra
// v6.5.3"); the zero value is unknown.
type Version struct {
	Major, Minor, Micro int
	Text                string // "6.5.3"
}

var versionRE = regexp.MustCompile(`\bv?(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseVersion reads the output of `xpra --version`.
func ParseVersion(out string) (Version, bool) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return Version{}, false
	}
	v := Version{Text: strings.TrimPrefix(m[0], "v")}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Micro, _ = strconv.Atoi(m[3])
	return v, true
}

// Known reports whether the version was learnt.
func (v Version) Known() bool { return v.Text != "" }

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

func (v Version) String() string {
	if !v.Known() {
		return "unknown"
	}
	return v.Text
}

// Incompatible says why a client of version client cannot attach to a
// server of version server, with what to do, or "" when the pair can talk
// (or a version is unknown). xpra 6 speaks only rencodeplus with lz4 or
// brotli, which came with 4.3; older clients and servers speak bencode or
// rencode with zlib, which 6 dropped.
func Incompatible(client, server Version) string {
	if !client.Known() || !server.Known() {
		return ""
	}
	switch {
	case server.Major >= 6 && !client.AtLeast(4, 3):
		return fmt.Sprintf("the local xpra %s cannot attach to the server's xpra %s: an xpra %d.x server needs a client of 4.3 or later "+
			"(Debian 12's is 3.1.3): install xpra.org's package here (https://xpra.org), or use client = \"remote\"",
			client, server, server.Major)
	case client.Major >= 6 && !server.AtLeast(4, 3):
		return fmt.Sprintf("the local xpra %s cannot attach to the server's xpra %s: an xpra %d.x client needs a server of 4.3 or later: "+
			"install xpra.org's package on the server (https://xpra.org) and restart its displays, or use client = \"remote\"",
			client, server, client.Major)
	}
	return ""
}

// Defaults are the client options that fit perch, for a client of version
// v (the options it accepts): no tray icon of its own per display (perch's
// is the one), no OpenGL probe (it fails through X11 forwarding and only
// shows a popup), no splash window (4.4 and later; unknown: not passed).
// A user's xpra_args come after them and win.
func Defaults(v Version) []string {
	d := []string{"--tray=no", "--opengl=no"}
	if v.AtLeast(4, 3) {
		// perch restarts the client itself; xpra's own reconnect (4.3 and
		// later: the client execs itself again when its connection is
		// lost) would bring back a client that another location's just
		// displaced, and take the display back from it.
		d = append(d, "--reconnect=no")
	}
	if v.AtLeast(4, 4) {
		d = append(d, "--splash=no")
	}
	return d
}

var localVersions struct {
	sync.Mutex
	m map[string]Version
}

// LocalVersion runs `bin --version` once per binary path and process and
// returns what it said.
func LocalVersion(ctx context.Context, bin string) (Version, error) {
	localVersions.Lock()
	defer localVersions.Unlock()
	if v, ok := localVersions.m[bin]; ok {
		return v, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return Version{}, fmt.Errorf("%s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	v, ok := ParseVersion(string(out))
	if !ok {
		return Version{}, fmt.Errorf("%s --version printed %q", bin, strings.TrimSpace(string(out)))
	}
	if localVersions.m == nil {
		localVersions.m = map[string]Version{}
	}
	localVersions.m[bin] = v
	return v, nil
}

// noise are lines xpra's client prints that never say why it ended
// (printing without cups, its packet counts, running as root).
var noise = []string{
	"printing disabled", "No module named 'cups'", "packets received (", "packets sent (",
	"Warning: running as root", "Warning missing modules", " for Python ", "removing unix domain socket",
}

// isNoise reports whether line is one of xpra's known noise lines.
func isNoise(line string) bool {
	for _, n := range noise {
		if strings.Contains(line, n) {
			return true
		}
	}
	return false
}

// RemoteHint explains a remote `xpra attach` refused for its version,
// from its last lines, or returns "".
func RemoteHint(output string, server Version) string {
	if !strings.Contains(output, "zlib is not available") && !strings.Contains(output, "failed to parse bencode packet") {
		return ""
	}
	return fmt.Sprintf("the server's `xpra attach` (xpra %s) and the display's xpra server are versions that cannot talk "+
		"(an xpra 6.x server needs a client of 4.3 or later; Debian 12's is 3.1.3): put xpra.org's package first on the "+
		"login's PATH, or restart the display with the same xpra", server)
}

// RemoteVersion runs `xpra --version` on the server, in the login's PATH.
func RemoteVersion(c *ssh.Client) (Version, error) {
	sess, err := c.NewSession()
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrSession, err)
	}
	defer sess.Close()
	var out, errOut bytes.Buffer // one each: they are written concurrently
	sess.Stdout, sess.Stderr = &out, &errOut
	if err := sess.Run("xpra --version"); err != nil {
		return Version{}, fmt.Errorf("`xpra --version` on the server: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	v, ok := ParseVersion(out.String())
	if !ok {
		return v, fmt.Errorf("`xpra --version` on the server printed %q", strings.TrimSpace(out.String()))
	}
	return v, nil
}

// ServerVersion is what a link learnt of the server's xpra version: asked
// once per link (on its first connection, and again only when the
// question could not be answered there).
type ServerVersion struct {
	mu    sync.Mutex
	v     Version
	asked chan struct{} // closed once answered; nil: not asked yet
}

// Get returns the server's version, starting ask (in a goroutine of its
// own) the first time; unknown when the server has no xpra, or ctx ended
// or gone was closed first. ask returns the version and whether to ask
// again on the next connection (its own died before the answer).
func (s *ServerVersion) Get(ctx context.Context, gone <-chan struct{}, ask func() (v Version, again bool)) Version {
	s.mu.Lock()
	if s.asked == nil {
		asked := make(chan struct{})
		s.asked = asked
		go func() {
			v, again := ask()
			s.mu.Lock()
			if again {
				s.asked = nil
			} else {
				s.v = v
			}
			s.mu.Unlock()
			close(asked)
		}()
	}
	asked := s.asked
	s.mu.Unlock()
	select {
	case <-asked:
	case <-ctx.Done():
	case <-gone:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}
