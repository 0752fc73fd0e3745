package sandbox

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ensureUser creates the account name (no home, /bin/sh) when missing.
func ensureUser(name string) (uid, gid int, err error) {
	lookup := func() (int, int, bool) {
		b, _ := os.ReadFile("/etc/passwd")
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 3 && f[0] == name {
				u, _ := strconv.Atoi(f[2])
				g, _ := strconv.Atoi(f[3])
				return u, g, true
			}
		}
		return 0, 0, false
	}
	// useradd locks the new account ("!" for its password), and sshd
	// without PAM refuses a locked account even for a key: "*" is no
	// password, unlocked.
	unlock := func(u, g int) (int, int, error) {
		if out, err := exec.Command("usermod", "--password", "*", name).CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("unlock the test user %s (usermod): %v: %s", name, err, out)
		}
		return u, g, nil
	}
	if u, g, ok := lookup(); ok {
		return unlock(u, g)
	}
	if out, err := exec.Command("useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", "--user-group", name).CombinedOutput(); err != nil {
		// Another test bed may have made it meanwhile.
		if u, g, ok := lookup(); ok {
			return unlock(u, g)
		}
		return 0, 0, fmt.Errorf("create the test user %s (useradd, as root): %v: %s", name, err, out)
	}
	if u, g, ok := lookup(); ok {
		return unlock(u, g)
	}
	return 0, 0, fmt.Errorf("useradd made no user %s", name)
}

// giveHome makes the sessions' home the login user's, when that user is
// not the current one.
func (s *SSHD) giveHome() error {
	if !s.other {
		return nil
	}
	return filepath.WalkDir(s.Home, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, s.uid, s.gid)
	})
}

// currentUser returns the login name of the current user.
func currentUser() (string, error) {
	// os/user would need cgo for some setups; the passwd file is enough.
	b, err := os.ReadFile("/etc/passwd")
	if err == nil {
		uid := strconv.Itoa(os.Getuid())
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 2 && f[2] == uid {
				return f[0], nil
			}
		}
	}
	for _, v := range []string{"USER", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u, nil
		}
	}
	return "", fmt.Errorf("cannot tell the name of user %d for the ssh login", os.Getuid())
}

// EnsureUser creates the account name (no home, /bin/sh) when missing and
// returns its uid and gid; it needs root to create one.
func EnsureUser(name string) (uid, gid int, err error) { return ensureUser(name) }
