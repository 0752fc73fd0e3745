package testbed

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newNetns makes a namespace for a test, or skips loudly (fails in CI).
func newNetns(t *testing.T) *Netns {
	t.Helper()
	if err := NetnsSupported(); err != nil {
		unavailable(t, "a network namespace", err)
	}
	n, err := NewNetns()
	if err != nil {
		unavailable(t, "a network namespace", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close the namespace: %v", err)
		}
	})
	return n
}

// TestNetns checks the namespace helper against a real sshd inside it: the
// server answers on NSAddr only; Cut stalls an established connection
// without a reset and makes new ones hang, Restore brings both back; Close
// leaves no namespace, interface or process.
func TestNetns(t *testing.T) {
	need(t, "sshd", "ssh")
	n := newNetns(t)
	t.Logf("namespace %s: %s %s ↔ %s %s", n.Name, n.HostDev, n.HostAddr, n.NSDev, n.NSAddr)
	s, err := StartSSHDWith(SSHDOptions{Netns: n})
	if err != nil {
		t.Fatalf("sshd in the namespace: %v", err)
	}
	defer s.Close()
	if s.Addr != net.JoinHostPort(n.NSAddr, strconv.Itoa(s.Port)) {
		t.Errorf("Addr = %s, want the namespace's address", s.Addr)
	}
	// The remote command runs inside: it sees the namespace's interface.
	out, err := runSSH(s, "", HostAlias, "grep -c "+n.NSDev+": /proc/self/net/dev")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("ssh into the namespace: %v: %q\nsshd log: %s", err, out, tail(s.Log))
	}
	// The listener is in the namespace: nothing answers on the host's loopback.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second); err == nil {
		c.Close()
		t.Errorf("something answers on 127.0.0.1:%d", s.Port)
	}
	pids, err := n.PIDs()
	if err != nil || len(pids) == 0 {
		t.Fatalf("PIDs = %v, %v; want the sshd", pids, err)
	}

	// An established connection survives a cut shorter than TCP's patience.
	c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if banner, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(banner, "SSH-2.0-") {
		t.Fatalf("banner %q: %v", banner, err)
	}
	if err := n.Cut(); err != nil {
		t.Fatal(err)
	}
	if !n.IsCut() {
		t.Error("IsCut false after Cut")
	}
	t0 := time.Now()
	if _, err := c.Write([]byte("SSH-2.0-perch_netns_test\r\n")); err != nil {
		t.Fatalf("write during the cut: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	if _, err := r.Peek(1); err == nil || !isTimeout(err) {
		t.Fatalf("read during the cut: %v, want a timeout (a stall, not a reset)", err)
	}
	// A new connection hangs rather than being refused.
	if c2, err := net.DialTimeout("tcp", s.Addr, 500*time.Millisecond); err == nil {
		c2.Close()
		t.Fatal("a new connection went through the cut")
	} else if !isTimeout(err) {
		t.Fatalf("dial during the cut: %v, want a timeout", err)
	}
	if err := n.Restore(); err != nil {
		t.Fatal(err)
	}
	cut := time.Since(t0)
	// The server's key exchange arrives once TCP retransmits.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.Peek(1); err != nil {
		t.Fatalf("the connection did not come back after Restore: %v", err)
	}
	t.Logf("cut for %v; traffic again %v after the cut began", cut.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	if out, err := runSSH(s, "", HostAlias, "true"); err != nil {
		t.Fatalf("ssh after Restore: %v: %s", err, out)
	}

	// Close leaves nothing behind.
	c.Close()
	if err := s.Close(); err != nil {
		t.Errorf("close sshd: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat("/run/netns/" + n.Name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/run/netns/%s: %v, want it gone", n.Name, err)
	}
	if out, _ := exec.Command("ip", "-o", "link", "show").CombinedOutput(); strings.Contains(string(out), n.HostDev) {
		t.Errorf("%s survives Close: %s", n.HostDev, out)
	}
	for _, p := range pids {
		if procState(p) != 0 {
			t.Errorf("process %d of the namespace survives Close", p)
		}
	}
	if err := n.Cut(); err == nil {
		t.Error("Cut after Close succeeded")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
