package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/sys/proctab"
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
		if proctab.State(p) != 0 {
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

// TestMain lets the test binary play a test process that is killed while
// it holds a namespace (TestNetnsReapsOrphans).
func TestMain(m *testing.M) {
	StableEnv()
	if os.Getenv("PERCH_TESTBED_ORPHAN") == "1" {
		orphan()
		return
	}
	os.Exit(m.Run())
}

// orphan makes a namespace with a process inside, prints its name and the
// process's pid, and waits to be killed.
func orphan() {
	n, err := NewNetns()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	cmd := n.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(n.Name, cmd.Process.Pid)
	select {}
}

// TestNetnsReapsOrphans kills a process that holds a namespace with a
// program running inside (as a test killed with kill -9 leaves it) and
// checks that the next NewNetns removes the namespace, its veth pair and
// the program, and leaves a namespace in use alone.
func TestNetnsReapsOrphans(t *testing.T) {
	inUse := newNetns(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PERCH_TESTBED_ORPHAN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("the orphaning process: %v", err)
	}
	var name string
	var pid int
	if _, err := fmt.Sscan(line, &name, &pid); err != nil || !strings.HasPrefix(name, "perch-test-") {
		cmd.Process.Kill()
		t.Fatalf("the orphaning process said %q", line)
	}
	var id int
	fmt.Sscanf(name, "perch-test-%d", &id)
	orphaned := netnsFor("", id)
	cmd.Process.Kill()
	cmd.Wait()
	if !netnsExists(t, name) || syscall.Kill(pid, 0) != nil {
		t.Fatalf("after kill -9 of its maker, %s or the program inside (pid %d) is already gone: nothing to reap", name, pid)
	}

	n := newNetns(t) // reaps
	if netnsExists(t, name) {
		t.Fatalf("%s is still there after NewNetns", name)
	}
	if _, err := os.Stat("/sys/class/net/" + orphaned.HostDev); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the orphan's interface %s is still there: %v", orphaned.HostDev, err)
	}
	if !waitFor(5*time.Second, func() bool { return syscall.Kill(pid, 0) != nil }) {
		t.Fatalf("the program inside the orphan (pid %d) still runs", pid)
	}
	if !netnsExists(t, inUse.Name) || !netnsExists(t, n.Name) {
		t.Fatalf("a namespace in use was removed: %s %v, %s %v", inUse.Name, netnsExists(t, inUse.Name), n.Name, netnsExists(t, n.Name))
	}
}

func netnsExists(t *testing.T, name string) bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

// TestProcessCountForks: a fork of a matching process (same command line)
// is counted with its parent; two separate processes count two.
func TestProcessCountForks(t *testing.T) {
	marker := fmt.Sprintf("perch-count-test-%d", os.Getpid())
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	start := func() {
		// The subshell is a fork of sh with sh's command line.
		c := exec.Command("sh", "-c", "(sleep 30; :); :", marker)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	count := func() int {
		n, err := ProcessCount(marker)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	start()
	// Wait for the fork: 2 processes carry the marker, 1 counts.
	if !waitFor(5*time.Second, func() bool { return countRaw(t, marker) == 2 }) {
		t.Fatalf("the subshell did not appear: %d processes with the marker", countRaw(t, marker))
	}
	if n := count(); n != 1 {
		t.Fatalf("one sh and its fork counted %d", n)
	}
	start()
	if !waitFor(5*time.Second, func() bool { return countRaw(t, marker) == 4 }) {
		t.Fatalf("the second subshell did not appear: %d", countRaw(t, marker))
	}
	if n := count(); n != 2 {
		t.Fatalf("two sh and their forks counted %d", n)
	}
}

// countRaw counts processes whose command line carries marker, forks and all.
func countRaw(t *testing.T, marker string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			n++
		}
	}
	return n
}

// TestNetnsLeavesNoMount: the first `ip netns add` makes /run/netns a mount
// point; once this process's last namespace is gone it is unmounted again,
// unless it was one before or another process's namespace is still in it.
func TestNetnsLeavesNoMount(t *testing.T) {
	if err := NetnsSupported(); err != nil {
		unavailable(t, "a network namespace", err)
	}
	before := netnsMountIsTheMachines()
	n, err := NewNetns()
	if err != nil {
		t.Fatal(err)
	}
	if !isMountPoint(netnsDir) {
		t.Fatalf("%s is not a mount point while namespace %s exists: ip netns add works differently here", netnsDir, n.Name)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(netnsDir)
	switch {
	case before:
		t.Logf("%s is the machine's own mount point: it stays", netnsDir)
	case len(ents) > 0:
		t.Logf("%s still holds %d namespaces of other processes: it stays mounted", netnsDir, len(ents))
	case isMountPoint(netnsDir):
		t.Errorf("%s is still mounted after the last namespace went", netnsDir)
	}
}

// TestNetnsAddsGoThroughTestbed: a test that runs `ip netns add` itself
// makes /run/netns a mount point that nothing undoes (netwatch's did,
// which left it mounted after every make test). Only this package's
// NewNetns and BareNetns may add namespaces.
func TestNetnsAddsGoThroughTestbed(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	add := regexp.MustCompile(`"netns",\s*"add"`)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		if abs, _ := filepath.Abs(filepath.Dir(p)); abs == self {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if add.Match(b) {
			t.Errorf("%s runs `ip netns add` itself: use testbed.NewNetns or testbed.BareNetns", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
