package room

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// needRoom skips (loudly; fails in CI) where a room cannot run, and
// returns a perch binary built from this tree.
func needRoom(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("a room takes a minute or two: not with -short")
	}
	if err := testbed.NetnsSupported(); err != nil {
		if testbed.InCI() {
			t.Fatalf("CI=true but the room cannot run: %v", err)
		}
		t.Skipf("!!! SKIPPING %s: %v", t.Name(), err)
	}
	bin := filepath.Join(t.TempDir(), "perch")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/perch").CombinedOutput(); err != nil {
		t.Fatalf("build perch: %v: %s", err, out)
	}
	return bin
}

func startRoom(t *testing.T, ctx context.Context, seats int, bin string) *Room {
	t.Helper()
	r, err := Start(ctx, Options{Seats: seats, Perch: bin})
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("start a room of %d: %v", seats, err)
		}
		t.Skipf("!!! SKIPPING: cannot start a room of %d: %v", seats, err)
	}
	t.Cleanup(r.Close)
	if _, err := r.WaitBack(ctx, time.Now(), nil, 120*time.Second); err != nil {
		r.dumpLogs(t)
		t.Fatalf("a room of %d coming up: %v", seats, err)
	}
	return r
}

func (r *Room) dumpLogs(t *testing.T) {
	t.Helper()
	for _, s := range r.Seats {
		t.Logf("%s: %s", s.Name, s.Log())
	}
	t.Logf("sshd: %s", r.SSHDLog())
}

func (r *Room) restart(t *testing.T, ctx context.Context) ([]time.Duration, Counts) {
	t.Helper()
	back, c, err := r.Restart(ctx, 10*time.Second, 90*time.Second)
	if err != nil {
		r.dumpLogs(t)
		t.Fatalf("after the sshd restart: %v", err)
	}
	return back, c
}

// TestRoom: twelve seats (more than MaxStartups' 10) on one sshd come
// back, every one, after sshd was stopped for 10 s, after all their
// session processes were killed, and after the network was cut for 20 s;
// after the restart the last is back within twice one seat's time plus
// 5 s.
func TestRoom(t *testing.T) {
	bin := needRoom(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	one := startRoom(t, ctx, 1, bin)
	oneBack, _ := one.restart(t, ctx)
	one.Close()
	t.Logf("one seat alone: back %s after sshd returned", oneBack[0].Round(time.Millisecond))

	r := startRoom(t, ctx, 12, bin)
	back, c := r.restart(t, ctx)
	last := slices.Max(back)
	t.Logf("sshd restart: the last of 12 seats back %s after sshd returned (one alone: %s); %d attempts (%d dropped past MaxStartups), peak %d/s",
		last.Round(time.Millisecond), oneBack[0].Round(time.Millisecond), c.Attempts(), c.Drops, c.PeakPerSec)
	if limit := 2*oneBack[0] + 5*time.Second; last > limit {
		t.Errorf("the last of 12 seats was back %s after sshd returned, want at most 2×%s+5s = %s", last, oneBack[0], limit)
	}

	back, c, err := r.KillAll(ctx, 60*time.Second)
	if err != nil {
		r.dumpLogs(t)
		t.Fatalf("after kill -9 of every session process: %v", err)
	}
	t.Logf("kill -9 of every session: the last back after %s; %d attempts", slices.Max(back).Round(time.Millisecond), c.Attempts())

	back, c, err = r.CutNetwork(ctx, 20*time.Second, 90*time.Second)
	if err != nil {
		r.dumpLogs(t)
		t.Fatalf("after a 20 s network cut: %v", err)
	}
	t.Logf("20 s network cut: the last back %s after the network returned; %d attempts (%d dropped), peak %d/s",
		slices.Max(back).Round(time.Millisecond), c.Attempts(), c.Drops, c.PeakPerSec)
	r.checkAttached(t, ctx)
}

// checkAttached: every seat's perch says its link is up and its session
// attached.
func (r *Room) checkAttached(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, s := range r.Seats {
		cl := &control.Client{Path: s.Socket}
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := cl.Status(ctx)
			if err == nil && st.Link != nil && st.Link.State == api.LinkUp && len(st.Sessions) == 1 && st.Sessions[0].State == api.SessionAttached {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: not attached 30 s after its session came back: %v %+v\n%s", s.Name, err, st, s.Log())
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
