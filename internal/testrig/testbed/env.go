package testbed

import (
	"os"
	"os/user"
	"strings"
)

// StableEnv makes the test process's environment, which every child
// process a test starts inherits, independent of the shell it was started
// from: a fresh root, a container or `env -i` has no LANG, TERM or HOME.
//   - A UTF-8 locale (LC_ALL=C.UTF-8) unless one is in effect already:
//     gdbus, xpra and ssh print non-ASCII text escaped or not at all
//     under the C locale.
//   - TERM=dumb when TERM is unset: no child may depend on a terminal.
//   - HOME: the user's home directory from the password database when
//     HOME is unset, as a login would set it.
//
// Call it first thing in TestMain.
func StableEnv() {
	if !strings.Contains(strings.ToUpper(strings.ReplaceAll(effectiveLocale(), "-", "")), "UTF8") {
		os.Setenv("LC_ALL", "C.UTF-8")
	}
	if os.Getenv("TERM") == "" {
		os.Setenv("TERM", "dumb")
	}
	if os.Getenv("HOME") == "" {
		if home, err := os.UserHomeDir(); err == nil && home != "" {
			os.Setenv("HOME", home)
		} else if u, err := lookupHome(); err == nil {
			os.Setenv("HOME", u)
		}
	}
}

// effectiveLocale is the locale a C program's LC_CTYPE would use: LC_ALL,
// else LC_CTYPE, else LANG.
func effectiveLocale() string {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// lookupHome is the current user's home directory in the password
// database.
func lookupHome() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}
