package xpraclient

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
)

// Binary is the local xpra; a variable for tests.
var Binary = "xpra"

// ErrNotInstalled: the thin client has no xpra.
var ErrNotInstalled = errors.New(`client = "local" runs xpra on this machine, but xpra is not installed: ` +
	`install the Debian package xpra (apt install xpra), or use client = "remote"`)

// AttachedMarker is what xpra's client logs once its handshake with the
// server is done ("Attached to socket:///…" in 3.1, "Attached to xpra
// server at …" in 6.x): the session is attached. The server's version line
// comes earlier, also before a client that then fails.
const AttachedMarker = "Attached to "

// AttachArgs is the local client's command line: the private socket, no
// mmap (client and server are on different machines; the socket is a
// tunnel), then the user's options, which win.
func AttachArgs(socket string, extra []string) []string {
	return append([]string{"attach", "socket://" + socket, "--mmap=no"}, extra...)
}

// Env is the client's environment: ours, with display (when not "") and
// the identity uuid (XPRA_USER_UUID, when not "").
func Env(display, uuid string) []string {
	env := os.Environ()
	if display != "" {
		env = SetEnv(env, "DISPLAY", display)
	}
	if uuid != "" {
		env = SetEnv(env, "XPRA_USER_UUID", uuid)
	}
	return env
}

// SetEnv returns env with k set to v.
func SetEnv(env []string, k, v string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, k+"=") })
	return append(env, k+"="+v)
}

// exits names xpra's exit statuses (xpra/exit_codes.py, 3.1; later
// versions keep these numbers). 1 stays unnamed: besides a lost connection
// it is any Python error's and a bad option's status.
var exits = []string{2: "timeout", 3: "password required",
	4: "password file error", 5: "incompatible version", 6: "encryption", 7: "failure",
	8: "ssh failure", 9: "packet failure", 10: "mmap token failure", 11: "no authentication",
	12: "unsupported", 13: "remote error", 14: "internal error", 15: "file too big",
	16: "ssl failure", 17: "ssh key failure", 18: "connection failed",
	19: "ssl certificate verify failure", 20: "no display"}

// logTime is the time xpra's log puts before each line
// ("2026-12-01 17:29:50,347 "), at the start of each joined line.
var logTime = regexp.MustCompile(`(^| \| )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)

// ExitError is a local client's end, worded by ExitReason; it unwraps to
// Wait's error.
type ExitError struct {
	Reason error
	Cause  error
}

func (e *ExitError) Error() string { return e.Reason.Error() }
func (e *ExitError) Unwrap() error { return e.Cause }

// ExitReason words the local client's end with its exit status, by xpra's
// name for it, and its last lines (Tail.LastLines) without their times,
// which are xpra's own reason (a refused version, a lost connection).
func ExitReason(err error, output string) error {
	status := "the local xpra exited with status 0"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = "the local xpra was killed by signal " + ws.Signal().String()
		} else {
			status = fmt.Sprintf("the local xpra exited with status %d", ee.ExitCode())
			if c := ee.ExitCode(); c < len(exits) && exits[c] != "" {
				status += " (" + exits[c] + ")"
			}
		}
	} else if err != nil {
		status = "the local xpra: " + err.Error()
	}
	output = logTime.ReplaceAllString(output, "$1")
	if output != "" {
		return &ExitError{Reason: fmt.Errorf("%s: %s", status, output), Cause: err}
	}
	return &ExitError{Reason: errors.New(status), Cause: err}
}
