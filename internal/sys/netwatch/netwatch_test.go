//go:build linux

package netwatch

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// message is one rtnetlink message of type typ carrying body.
func message(typ uint16, body []byte) []byte {
	b := make([]byte, syscall.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	copy(b[syscall.NLMSG_HDRLEN:], body)
	return b
}

func ifinfo(flags uint32) []byte {
	b := make([]byte, syscall.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[8:12], flags)
	return b
}

func TestRelevant(t *testing.T) {
	const lowerUp = 0x10000
	cases := []struct {
		name string
		msgs [][]byte
		want bool
	}{
		{"link up and running", [][]byte{message(syscall.RTM_NEWLINK, ifinfo(syscall.IFF_UP|syscall.IFF_RUNNING))}, true},
		{"carrier on", [][]byte{message(syscall.RTM_NEWLINK, ifinfo(lowerUp))}, true},
		{"link up without carrier", [][]byte{message(syscall.RTM_NEWLINK, ifinfo(syscall.IFF_UP))}, false},
		{"link down", [][]byte{message(syscall.RTM_NEWLINK, ifinfo(0))}, false},
		{"short link message", [][]byte{message(syscall.RTM_NEWLINK, []byte{1, 2})}, false},
		{"new address", [][]byte{message(syscall.RTM_NEWADDR, make([]byte, 8))}, true},
		{"new route", [][]byte{message(syscall.RTM_NEWROUTE, make([]byte, 12))}, true},
		{"address gone", [][]byte{message(syscall.RTM_DELADDR, make([]byte, 8))}, false},
		{"route gone", [][]byte{message(syscall.RTM_DELROUTE, make([]byte, 12))}, false},
		{"link down, then an address", [][]byte{message(syscall.RTM_NEWLINK, ifinfo(0)), message(syscall.RTM_NEWADDR, make([]byte, 8))}, true},
		{"garbage", [][]byte{{1, 2, 3}}, false},
	}
	for _, tc := range cases {
		var b []byte
		for _, m := range tc.msgs {
			b = append(b, m...)
		}
		if got := relevant(b); got != tc.want {
			t.Errorf("%s: relevant = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWatch brings a veth pair of its own up (needs root; CI is root) and
// waits for the call; a second one within minGap waits for it.
func TestWatch(t *testing.T) {
	testbed.NeedRoot(t, "TestWatch makes an interface")
	const sysSetns = 308 // setns(2) on linux/amd64; package syscall has no name for it
	if runtime.GOARCH != "amd64" {
		t.Skip("!!! SKIPPED: TestWatch knows setns(2)'s number on amd64 only")
	}
	// A network namespace of the test's own, so that what other tests
	// (run in parallel by go test) do to the host's interfaces is not
	// heard here. The netlink socket belongs to the namespace of the
	// thread that makes it; the thread then ends with its goroutine.
	ns := fmt.Sprintf("perch-watch-%d", os.Getpid())
	nsPath, del, err := testbed.BareNetns(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer del()
	nsFile, err := os.Open(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer nsFile.Close()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan time.Time, 16)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes with the goroutine
		if _, _, e := syscall.RawSyscall(sysSetns, nsFile.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			done <- fmt.Errorf("setns: %w", e)
			return
		}
		done <- Watch(ctx, 50*time.Millisecond, 500*time.Millisecond, func() { calls <- time.Now() })
	}()
	defer func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Watch returned %v after its context ended", err)
		}
	}()
	waitListening(t, ns)
	name := "pchw"
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
		}
	}
	ip("link", "add", name, "type", "veth", "peer", "name", name+"p")
	// No IPv6 link-local addresses: their duplicate-address detection ends
	// a second or two after the link comes up, with a change of its own
	// that would land in the middle of the bursts below.
	for _, dev := range []string{name, name + "p"} {
		_ = exec.Command("ip", "-n", ns, "link", "set", dev, "addrgenmode", "none").Run()
	}
	select {
	case <-calls:
		t.Fatal("a new interface, still down, counted as the network coming back")
	case <-time.After(300 * time.Millisecond):
	}
	upAt := time.Now()
	ip("link", "set", name, "up")
	ip("link", "set", name+"p", "up")
	var first time.Time
	select {
	case first = <-calls:
		t.Logf("called %v after the interface came up", first.Sub(upAt).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("no call within 5s of an interface coming up")
	}
	// A burst: one call, and not before minGap after the first.
	ip("addr", "add", "192.0.2.1/32", "dev", name)
	ip("addr", "add", "192.0.2.2/32", "dev", name)
	select {
	case second := <-calls:
		if gap := second.Sub(first); gap < 500*time.Millisecond {
			t.Errorf("second call %v after the first, want at least minGap", gap)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no call for the new addresses")
	}
	select {
	case <-calls:
		t.Error("two calls for one burst")
	case <-time.After(700 * time.Millisecond):
	}
}

// FuzzRelevant: any bytes read from the netlink socket are looked at
// without a panic, and a message the table above calls relevant stays so
// with anything appended after it.
func FuzzRelevant(f *testing.F) {
	up := message(syscall.RTM_NEWLINK, ifinfo(syscall.IFF_UP|syscall.IFF_RUNNING))
	f.Add(up)
	f.Add(message(syscall.RTM_NEWLINK, ifinfo(0)))
	f.Add(message(syscall.RTM_NEWADDR, make([]byte, 8)))
	f.Add(message(syscall.RTM_DELROUTE, make([]byte, 12)))
	f.Add(message(syscall.RTM_NEWLINK, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = relevant(b)
		if !relevant(append(append([]byte{}, up...), b...)) {
			// ParseNetlinkMessage refuses the whole buffer when a later
			// message is malformed: then nothing counts, which is fine.
			if _, err := syscall.ParseNetlinkMessage(append(append([]byte{}, up...), b...)); err == nil {
				t.Fatalf("an up link followed by %x is not relevant", b)
			}
		}
	})
}

// waitListening waits until a rtnetlink socket in namespace ns listens to
// the groups Watch joins (0x551: links, IPv4 and IPv6 addresses and
// routes), as the namespace's /proc/net/netlink shows it.
func waitListening(t *testing.T, ns string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/netlink").CombinedOutput()
		if err != nil {
			t.Fatalf("read %s's /proc/net/netlink: %v: %s", ns, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[1] == "0" && f[3] == "00000551" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Watch did not listen in %s within 10s:\n%s", ns, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
