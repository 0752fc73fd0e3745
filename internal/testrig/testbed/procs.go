package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/perchdesk/perch/internal/sys/proctab"
)

// ConnectionPIDs returns the server-side sshd processes that serve client
// connections, parents first: the per-connection children of the listener
// ("sshd: USER [priv]") and, for users other than root, their
// privilege-separated children ("sshd: USER@notty"), which hold the
// network socket. (OpenSSH serves a root login from the per-connection
// child itself.) Killing all of them with SIGKILL drops the links at once.
// The sessions' commands are not among them: they outlive a killed
// connection until Stop or Close.
func (s *SSHD) ConnectionPIDs() ([]int, error) {
	listener := s.PID()
	if listener == 0 {
		return nil, errors.New("the test sshd is not running")
	}
	procs, err := proctab.Read()
	if err != nil {
		return nil, fmt.Errorf("read the process table: %w", err)
	}
	bin := s.Binary()
	exe, _ := filepath.EvalSymlinks(bin)
	var pids []int
	for _, p := range procs.Descendants(listener) {
		if e, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); err == nil && (e == bin || e == exe) {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// ProcessCount returns the number of running processes whose full command
// line (arguments joined by spaces) contains pattern, e.g.
// "xpra attach :10". A process forked by a matching one is counted with
// its parent, not on its own: until it execs it has its parent's command
// line, and it is no second client.
func ProcessCount(pattern string) (int, error) {
	procs, err := proctab.Read()
	if err != nil {
		return 0, fmt.Errorf("read the process table: %w", err)
	}
	return CountMatching(procs.PIDs(), pattern), nil
}

// CountMatching is ProcessCount among pids.
func CountMatching(pids []int, pattern string) int {
	matches := func(pid int) bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || len(b) == 0 {
			return false // exited, a zombie or a kernel thread
		}
		return strings.Contains(strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "), pattern)
	}
	n := 0
	for _, pid := range pids {
		if matches(pid) && !matches(proctab.Parent(pid)) {
			n++
		}
	}
	return n
}
