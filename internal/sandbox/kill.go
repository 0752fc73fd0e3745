package sandbox

import (
	"fmt"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/sys/proctab"
)

// killAll kills root and all its descendants with SIGKILL and then every
// process whose environment holds marker (which catches processes that were
// orphaned before). The tree is frozen with SIGSTOP first, so that nothing
// in it can fork behind the kill. It returns once nothing is left, or an
// error after 5 seconds.
func killAll(root int, marker string) error {
	deadline := time.Now().Add(5 * time.Second)
	if root > 0 {
		_ = syscall.Kill(root, syscall.SIGSTOP)
		stopped := map[int]bool{}
		for time.Now().Before(deadline) {
			procs, err := proctab.Read()
			if err != nil {
				return fmt.Errorf("read the process table: %w", err)
			}
			fresh := 0
			for _, p := range procs.Descendants(root) {
				if !stopped[p] {
					_ = syscall.Kill(p, syscall.SIGSTOP)
					stopped[p] = true
					fresh++
				}
			}
			if fresh == 0 {
				break
			}
		}
		_ = syscall.Kill(root, syscall.SIGKILL)
		var pids []int
		for p := range stopped {
			_ = syscall.Kill(p, syscall.SIGKILL)
			pids = append(pids, p)
		}
		if left := proctab.WaitGone(pids, time.Until(deadline)); len(left) > 0 {
			return fmt.Errorf("processes %v of the sshd survive SIGKILL", left)
		}
	}
	for {
		pids := proctab.Marked(marker)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of the sshd survive SIGKILL", pids)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
