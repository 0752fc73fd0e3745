// Package fyneenv fixes, before Fyne starts, two things perch-tray's
// environment can make Fyne (and the D-Bus library under it) do wrong.
// Import it for its side effect: it imports nothing but os, path/filepath
// and strings, so it is initialized before Fyne's packages (Go initializes
// ready packages in import-path order, and "github.com/…" sorts before
// Fyne's lang dependencies "golang.org/x/text/…" and "text/template"). The
// tray's integration test checks both on the binary.
//
// The locale: Fyne reads it in its lang package's init, through go-locale,
// which passes "C.UTF-8" (Debian's default in containers and minimal
// installs) on as the language "C", and logs "Error parsing user locale
// C" on every start. Under such a locale go-locale reads $LANGUAGE first;
// LANGUAGE=en is set, which C-locale programs ignore (gettext skips
// LANGUAGE under the C locale), so children see no difference.
//
// The session bus: with no DBUS_SESSION_BUS_ADDRESS and no
// $XDG_RUNTIME_DIR/bus, godbus autolaunches a dbus-daemon (dbus-launch
// --autolaunch) that outlives perch-tray, and a bus nobody else is on has
// no tray host to show the icon nor a notification daemon. The address is
// set to one that fails instead, so perch-tray shows its status window as
// it does with no tray host, and starts no daemon.
package fyneenv

import (
	"os"
	"path/filepath"
	"strings"
)

// NoBus is the session bus address set when there is none: a path that
// cannot be a socket.
const NoBus = "unix:path=/dev/null/perch-tray-found-no-session-bus"

func init() {
	Locale(os.Getenv, os.Setenv)
	Bus(os.Getenv, os.Setenv, exists)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// Locale sets LANGUAGE=en when the locale the C library would use (LC_ALL,
// else LC_MESSAGES, else LANG) is C or POSIX with a codeset or modifier
// ("C.UTF-8", "POSIX@x") and LANGUAGE is unset.
func Locale(getenv func(string) string, setenv func(string, string) error) {
	if getenv("LANGUAGE") != "" {
		return
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(k)
		if v == "" {
			continue
		}
		if v == "C" || v == "POSIX" { // go-locale takes these as they are
			return
		}
		lang, _, _ := strings.Cut(strings.SplitN(v, "@", 2)[0], ".")
		if lang == "C" || lang == "POSIX" {
			_ = setenv("LANGUAGE", "en")
		}
		return
	}
}

// Bus sets DBUS_SESSION_BUS_ADDRESS to NoBus when it is unset (or
// "autolaunch:") and there is no $XDG_RUNTIME_DIR/bus: where godbus would
// autolaunch a daemon.
func Bus(getenv func(string) string, setenv func(string, string) error, exists func(string) bool) {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return
	}
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && exists(filepath.Join(rt, "bus")) {
		return
	}
	_ = setenv("DBUS_SESSION_BUS_ADDRESS", NoBus)
}
