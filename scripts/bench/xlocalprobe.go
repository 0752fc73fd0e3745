package main

// What the xlocal comparison reads off the machine: frames and key presses
// on the local screen, CPU time of process trees.

import (
	"bufio"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// frames counts the distinct increasing frame numbers read from the local
// window's top row until ctx ends; it returns frames per second. A client
// restarted meanwhile (perch's bandwidth limit) shows the animation in a
// new window: it is followed, and the frames missed in between count as
// lost.
func (b *localBed) frames(ctx context.Context, win xproto.Window) (float64, error) {
	c, err := b.local.Dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	x := c.X()
	start, count := time.Now(), testbed.NewFrameCounter()
	var gone, checked time.Time
	for ctx.Err() == nil {
		// A new client's windows may reuse the old one's ids: look the
		// animation up again now and then, not only when reading fails.
		if time.Since(checked) > 250*time.Millisecond {
			if w := testbed.AnimWindow(x); w != 0 {
				win = w
			}
			checked = time.Now()
		}
		n, err := testbed.AnimFrame(x, win)
		if err != nil {
			if gone.IsZero() {
				gone = time.Now()
			}
			if time.Since(gone) > 30*time.Second {
				return 0, err
			}
			checked = time.Time{}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		gone = time.Time{}
		count.Add(n)
		time.Sleep(5 * time.Millisecond)
	}
	return float64(count.Seen) / time.Since(start).Seconds(), nil
}

// keyLatency presses a key on the local window and returns how long until
// the animation logged it (timeout: not seen).
func (b *localBed) keyLatency(win xproto.Window, timeout time.Duration) (time.Duration, error) {
	c, err := b.local.Dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	x := c.X()
	if err := xtest.Init(x); err != nil {
		return 0, err
	}
	root := xproto.Setup(x).DefaultScreen(x).Root
	tr, err := xproto.TranslateCoordinates(x, win, root, 320, 240).Reply()
	if err != nil {
		return timeout, errKeyTimeout // the window went (a restarted client): a key lost
	}
	xproto.SetInputFocus(x, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime)
	xtest.FakeInput(x, xproto.MotionNotify, 0, 0, root, tr.DstX, tr.DstY, 0)
	before := countLines(b.keylog)
	if _, err := xproto.GetInputFocus(x).Reply(); err != nil {
		return 0, err
	}
	t0 := time.Now()
	xtest.FakeInput(x, xproto.KeyPress, 38, 0, root, 0, 0, 0)
	xtest.FakeInput(x, xproto.KeyRelease, 38, 0, root, 0, 0, 0)
	if _, err := xproto.GetInputFocus(x).Reply(); err != nil {
		return 0, err
	}
	for time.Since(t0) < timeout {
		if lines := readLines(b.keylog); len(lines) > before {
			f := strings.Fields(lines[before])
			ns, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			return time.Unix(0, ns).Sub(t0), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return timeout, errKeyTimeout
}

var errKeyTimeout = errors.New("key not seen")

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func countLines(path string) int { return len(readLines(path)) }

// treeCPU sums the CPU time of the processes under (and including) roots.
func treeCPU(roots []int) time.Duration {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		parent[pid], _ = strconv.Atoi(f[1])
	}
	in := func(pid int) bool {
		for p := pid; p > 1; p = parent[p] {
			if slices.Contains(roots, p) {
				return true
			}
		}
		return false
	}
	var total time.Duration
	for pid := range parent {
		if in(pid) {
			if c, _, err := procStat(pid); err == nil {
				total += c
			}
		}
	}
	return total
}

// pidOf finds the process whose command line contains every part.
func pidOf(parts ...string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cl := strings.ReplaceAll(string(data), "\x00", " ")
		ok := cl != ""
		for _, p := range parts {
			ok = ok && strings.Contains(cl, p)
		}
		if ok {
			return pid
		}
	}
	return 0
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
