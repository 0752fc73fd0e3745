package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/perchdesk/perch/internal/sys/proctab"
)

// FreeDisplay returns the first display number ≥ from with neither an X
// socket /tmp/.X11-unix/XN nor a lock file /tmp/.XN-lock nor an X server
// answering on it (the abstract socket @/tmp/.X11-unix/XN or TCP port
// 6000+N on loopback: a server in another /tmp, a container's or a
// PrivateTmp service's, shows no files here), that no live process got
// from FreeDisplay before. The numbers it hands out are
// recorded in /tmp/.perch-testbed-displays, so that test binaries running
// in parallel (go test ./...) and two calls before the first server
// starts never get the same number.
func FreeDisplay(from int) int {
	for n := from; ; n++ {
		if exists(fmt.Sprintf("/tmp/.X11-unix/X%d", n)) || exists(fmt.Sprintf("/tmp/.X%d-lock", n)) || displayAnswers(n) {
			continue
		}
		if reserveDisplay(n) {
			return n
		}
	}
}

// displayAnswers reports whether something accepts connections on display
// n's abstract X socket or its TCP port on loopback.
func displayAnswers(n int) bool {
	for _, a := range [][2]string{{"unix", fmt.Sprintf("@/tmp/.X11-unix/X%d", n)}, {"tcp", fmt.Sprintf("127.0.0.1:%d", 6000+n)}} {
		if c, err := net.DialTimeout(a[0], a[1], time.Second); err == nil {
			c.Close()
			return true
		}
	}
	return false
}

const displayReservations = "/tmp/.perch-testbed-displays"

// reserveDisplay records display n for this process, unless a live process
// did so first. Records of exited processes are taken over. If nothing can
// be recorded, it says yes: the X files alone decide.
func reserveDisplay(n int) bool {
	if err := os.Mkdir(displayReservations, 0o777); err == nil {
		_ = os.Chmod(displayReservations, os.ModeSticky|0o777)
	} else if !errors.Is(err, os.ErrExist) {
		return true
	}
	path := filepath.Join(displayReservations, strconv.Itoa(n))
	// Link a complete file into place, so that nobody reads a half-written
	// record.
	tmp, err := os.CreateTemp(displayReservations, ".new-")
	if err != nil {
		return true
	}
	fmt.Fprintf(tmp, "%d\n", os.Getpid())
	_ = tmp.Chmod(0o644)
	tmp.Close()
	defer os.Remove(tmp.Name())
	for attempt := 0; attempt < 2; attempt++ {
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return true
		}
		if !errors.Is(err, os.ErrExist) {
			return true
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid == os.Getpid() || proctab.Alive(pid) {
			return false
		}
		os.Remove(path) // left by a process that exited
	}
	return false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
