package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Xpra6Prefix is where xpra 6.5.3 is built (../shared/vendor/xpra6's
// build.sh PREFIX): $PERCH_XPRA6, else /opt/xpra-6.5.3.
func Xpra6Prefix() string {
	if p := os.Getenv("PERCH_XPRA6"); p != "" {
		return p
	}
	return "/opt/xpra-6.5.3"
}

// Xpra6 returns the path of xpra 6.5.3 (PREFIX/wrap/xpra), or why it is
// not there. Run it only through that path: wrap/xpra sets the Python path
// and its own configuration directory.
func Xpra6() (string, error) {
	prefix := Xpra6Prefix()
	if !exists(filepath.Join(prefix, ".built")) {
		return "", fmt.Errorf("xpra 6.5.3 is not built in %s (PERCH_XPRA6): run `sudo ../shared/vendor/xpra6/build.sh %s`", prefix, prefix)
	}
	bin := filepath.Join(prefix, "wrap", "xpra")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		return "", errors.New(bin + " is missing or not executable")
	}
	return bin, nil
}

// RemoteOptions tunes StartRemoteWith; the zero value is StartRemote's.
type RemoteOptions struct {
	Screen string // the thin client's Xvfb, "1920x1080x24"
	Xpras  int    // how many xpra servers
	First  int    // the first display number tried for them
	Child  string // the program each xpra server runs
	// Xpra6 runs the servers with xpra 6.5.3 (Xpra6) and puts its wrap
	// directory first on the login's PATH, as for a user with xpra.org's
	// package: `xpra` on the server is 6.5.3.
	Xpra6 bool
}
