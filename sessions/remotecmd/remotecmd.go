// Package remotecmd shapes a command for the server's login shell (exec,
// so that signals reach it) and words how a command run over SSH ended.
package remotecmd

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Shape prefixes a simple command with exec, so that the shell sshd
// starts it with is replaced by it and the SIGTERM of a clean stop reaches
// the command itself (sshd signals the shell's pid; without a pty nothing
// else ends an orphaned command). Commands using shell syntax are left as
// written: they can say exec themselves.
func Shape(cmd string) string {
	c := strings.TrimSpace(cmd)
	first, _, _ := strings.Cut(c, " ")
	if c == "" || first == "exec" || strings.Contains(first, "=") || strings.ContainsAny(c, ";&|<>()$`\\\n\"'*?[]{}~#") {
		return cmd
	}
	return "exec " + c
}

// Ended words a command's end with its last output lines, which is
// where xpra says why it cannot attach.
func Ended(err error, output string) error {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	var status string
	switch {
	case err == nil:
		status = "exited with status 0"
	case errors.As(err, &ee):
		if ee.Signal() != "" {
			status = "killed by signal " + ee.Signal()
		} else {
			status = fmt.Sprintf("exited with status %d", ee.ExitStatus())
		}
	case errors.As(err, &missing):
		status = "ended without an exit status (connection lost?)"
	default:
		status = err.Error()
	}
	if output != "" {
		return fmt.Errorf("%s: %s", status, output)
	}
	return errors.New(status)
}
