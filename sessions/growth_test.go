package sessions

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// growth is the soak tests' check that faults do not make the process
// grow: in the link's goroutines, in descriptors, in memory. Goroutines
// are counted by what they run, and only the link's (a frame of perch's
// sessions packages or of x/crypto/ssh, none of the test rig's): the
// fault proxy and the bed run in this process too, and their goroutines
// come and go with the faults, not with a leak.
type growth struct {
	g0         map[string]int
	n0, f0, r0 int
}

// startGrowth takes the baseline.
func startGrowth(t *testing.T) *growth {
	g := &growth{g0: linkGoroutines(), f0: len(fdList(t)), r0: rssKiB(t)}
	g.n0 = total(g.g0)
	return g
}

// check compares with the baseline after a fault (what): a little slack
// for timers and runtime caches; the old connection's goroutines (its
// channels, its X11 relays) end as its last bytes drain, so a straggler
// is waited for (up to 30 s) and a leak stays.
func (g *growth) check(t *testing.T, what string) {
	t.Helper()
	runtime.GC()
	deadline := time.Now().Add(30 * time.Second)
	now := linkGoroutines()
	for total(now) > g.n0+8 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // no event tells a goroutine's end
		now = linkGoroutines()
	}
	if n := total(now); n > g.n0+8 {
		var grew []string
		for _, k := range slices.Sorted(maps.Keys(now)) {
			if now[k] > g.g0[k] {
				grew = append(grew, fmt.Sprintf("%+d %s", now[k]-g.g0[k], k))
			}
		}
		t.Errorf("%s: %d goroutines of the link, %d at the start; more of:\n%s", what, n, g.n0, strings.Join(grew, "\n"))
	}
	if f := len(fdList(t)); f > g.f0+8 {
		t.Errorf("%s: %d descriptors, %d at the start", what, f, g.f0)
	}
	if r := rssKiB(t); r > g.r0+30*1024 {
		t.Errorf("%s: RSS %d KiB, %d KiB at the start", what, r, g.r0)
	}
}

// linkGoroutines counts the link's goroutines (see growth) by the
// function each is in.
func linkGoroutines() map[string]int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "/internal/testrig/") ||
			!(strings.Contains(g, "perchdesk/perch/sessions") || strings.Contains(g, "golang.org/x/crypto/ssh")) {
			continue
		}
		lines := strings.Split(g, "\n")
		if len(lines) < 2 {
			continue
		}
		top := lines[1]
		if i := strings.LastIndexByte(top, '('); i > 0 {
			top = top[:i]
		}
		n[top]++
	}
	return n
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
