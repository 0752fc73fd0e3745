package testbed

import (
	"bufio"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
)

// netnsDir is where iproute2 keeps named namespaces. The first `ip netns
// add` on a machine makes it a mount point (a bind mount of itself, so
// that namespace files propagate), and nothing unmounts it afterwards.
const netnsDir = "/run/netns"

// netnsMounts counts this process's live namespaces, and remembers whether
// netnsDir was a mount point before the first of them: the tests leave no
// mount behind that was not there before them.
var netnsMounts struct {
	sync.Mutex
	live       int
	checked    bool
	wasMounted bool
}

// noteNetnsAdded records one more live namespace of this process; call it
// before `ip netns add`.
func noteNetnsAdded() {
	netnsMounts.Lock()
	defer netnsMounts.Unlock()
	if !netnsMounts.checked {
		netnsMounts.checked = true
		netnsMounts.wasMounted = isMountPoint(netnsDir)
	}
	netnsMounts.live++
}

// noteNetnsGone records that one of this process's namespaces is gone.
// When it was the last, netnsDir was not a mount point before, and no
// namespace of anyone is left in it, netnsDir is unmounted again. A plain
// (not lazy) unmount: if another process mounted a namespace under it
// meanwhile, the kernel refuses with EBUSY and the mount stays.
func noteNetnsGone() {
	netnsMounts.Lock()
	defer netnsMounts.Unlock()
	if netnsMounts.live--; netnsMounts.live > 0 || netnsMounts.wasMounted {
		return
	}
	if ents, err := os.ReadDir(netnsDir); err != nil || len(ents) > 0 || !isMountPoint(netnsDir) {
		return
	}
	if err := syscall.Unmount(netnsDir, 0); err != nil {
		slog.Debug("testbed: leaving "+netnsDir+" mounted", "err", err)
	}
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
