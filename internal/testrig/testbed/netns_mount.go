package testbed

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// netnsDir is where iproute2 keeps named namespaces. The first `ip netns
// add` on a machine makes it a mount point (a bind mount of itself, so
// that namespace files propagate), and nothing unmounts it afterwards.
const netnsDir = "/run/netns"

// netnsMountedByTests marks that a test process, not the machine's owner,
// made netnsDir a mount point: test binaries run in parallel (go test
// ./...), and the one whose namespace goes last may not be the one that
// mounted it.
const netnsMountedByTests = "/run/.perch-testbed-netns-mount"

// netnsMounts counts this process's live namespaces.
var netnsMounts struct {
	sync.Mutex
	live int
}

// noteNetnsAdded records one more live namespace of this process; call it
// before `ip netns add`, and the function it returns after. When netnsDir
// is no mount point yet, that add will make it one: the marker says a test
// did. Until the returned function runs, no test process unmounts
// netnsDir.
func noteNetnsAdded() (unlock func()) {
	netnsMounts.Lock()
	defer netnsMounts.Unlock()
	unlock = netnsLock(syscall.LOCK_SH)
	if !isMountPoint(netnsDir) {
		_ = os.WriteFile(netnsMountedByTests, nil, 0o600)
	}
	netnsMounts.live++
	return unlock
}

// noteNetnsGone records that one of this process's namespaces is gone.
// When it was the last, a test made netnsDir a mount point (the marker),
// and no namespace of anyone is left in it, netnsDir is unmounted again.
// A plain (not lazy) unmount: if another process mounted a namespace under
// it meanwhile, the kernel refuses with EBUSY and the mount stays for that
// process to undo.
func noteNetnsGone() {
	netnsMounts.Lock()
	defer netnsMounts.Unlock()
	if netnsMounts.live--; netnsMounts.live > 0 {
		return
	}
	// Exclusive: no other test process is between its look at the mount
	// and its `ip netns add` meanwhile (they hold the lock shared).
	unlock := netnsLock(syscall.LOCK_EX)
	defer unlock()
	if !exists(netnsMountedByTests) {
		return
	}
	if ents, err := os.ReadDir(netnsDir); err != nil || len(ents) > 0 || !isMountPoint(netnsDir) {
		return
	}
	if err := syscall.Unmount(netnsDir, 0); err != nil {
		slog.Debug("testbed: leaving "+netnsDir+" mounted", "err", err)
		return
	}
	_ = os.Remove(netnsMountedByTests)
}

// netnsMountIsTheMachines reports whether netnsDir is a mount point that
// no test made (the machine's own, which stays).
func netnsMountIsTheMachines() bool {
	return isMountPoint(netnsDir) && !exists(netnsMountedByTests)
}

// isMountPoint reports whether path is a mount point of this process's
// mount namespace (/proc/self/mountinfo's fifth field).
func isMountPoint(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 4 && fs[4] == path {
			return true
		}
	}
	return false
}

// netnsLock takes the test processes' lock on the mount (how: LOCK_SH or
// LOCK_EX) and returns its release; without a lock file it does nothing.
func netnsLock(how int) (unlock func()) {
	f, err := os.OpenFile(netnsMountedByTests+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() } // closing releases the lock
}

// BareNetns adds a named network namespace with nothing in it (`ip netns
// add name`) for a test that only needs its own network stack, and
// returns its path and its removal. It keeps the mount's book as
// NewNetns does: every test's `ip netns add` must go through here or
// NewNetns, or /run/netns stays mounted after the tests.
func BareNetns(name string) (path string, del func(), err error) {
	unlock := noteNetnsAdded()
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	unlock()
	if err != nil {
		noteNetnsGone()
		return "", nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	del = func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			slog.Warn("testbed: ip netns del "+name, "err", err, "out", string(out))
			return
		}
		noteNetnsGone()
	}
	return filepath.Join(netnsDir, name), del, nil
}
