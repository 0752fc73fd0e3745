package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// sleepPattern is a sleep command line no other program runs, to find the
// processes a hook left behind.
func sleepPattern(t *testing.T, n int) string {
	return fmt.Sprintf("sleep %d.%d", 100+n, os.Getpid())
}

// waitNoProcess waits until no process matches pattern.
func waitNoProcess(t *testing.T, pattern string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n, err := testbed.ProcessCount(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %q still running after %s", n, pattern, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killMatching ends the processes this test started that match pattern.
func killMatching(t *testing.T, pattern string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), pattern) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestHookTimeoutKillsItsProcesses(t *testing.T) {
	slow, child := sleepPattern(t, 1), sleepPattern(t, 2)
	t.Cleanup(func() { killMatching(t, slow); killMatching(t, child) })
	cfg := loadConfig(t, testConfig+`
[profile.slow]
before = ["`+child+` & `+slow+`"]
[[profile.slow.output]]
name = "eDP1"
`)
	h := startWith(t, cfg, newFakeDisplay("HDMI1", "eDP1"), "sofa", func(o *Options) { o.HookTimeout = 300 * time.Millisecond })
	h.wait(t, "sofa", func(s api.Status) bool { return s.Profile == "sofa" })
	start := time.Now()
	err := h.a.Switch(context.Background(), "slow")
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms: stopped it") {
		t.Errorf("slow hook: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the hook's timeout took %s", d)
	}
	// The hook and the child it put in the background are both gone.
	waitNoProcess(t, slow, 5*time.Second)
	waitNoProcess(t, child, 5*time.Second)
}

func TestHookBackgroundChildDoesNotHold(t *testing.T) {
	child := sleepPattern(t, 3)
	t.Cleanup(func() { killMatching(t, child) })
	cfg := loadConfig(t, testConfig+`
[profile.bg]
before = ["`+child+` & echo started"]
[[profile.bg.output]]
name = "eDP1"
`)
	h := startWith(t, cfg, newFakeDisplay("HDMI1", "eDP1"), "sofa", func(o *Options) { o.HookTimeout = time.Minute })
	h.wait(t, "sofa", func(s api.Status) bool { return s.Profile == "sofa" })
	done := make(chan error, 1)
	go func() { done <- h.a.Switch(context.Background(), "bg") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a hook that left a child in the background: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a child left in the background by a hook holds the switch")
	}
	if h.a.Status().Profile != "bg" {
		t.Errorf("profile %s", h.a.Status().Profile)
	}
}

func TestStopDuringHook(t *testing.T) {
	slow, child := sleepPattern(t, 4), sleepPattern(t, 5)
	t.Cleanup(func() { killMatching(t, slow); killMatching(t, child) })
	cfg := loadConfig(t, testConfig+`
[profile.hang]
before = ["`+child+` & `+slow+`"]
[[profile.hang.output]]
name = "eDP1"
`)
	h := startWith(t, cfg, newFakeDisplay("HDMI1", "eDP1"), "hang", func(o *Options) { o.HookTimeout = time.Minute })
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := testbed.ProcessCount(slow); n == 0; n, _ = testbed.ProcessCount(slow) {
		if time.Now().After(deadline) {
			t.Fatal("the hook did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.stop() // fails the test when Run does not return within 5 s
	waitNoProcess(t, slow, 5*time.Second)
	waitNoProcess(t, child, 5*time.Second)
}
