package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/sandbox"
)

// need skips the test loudly when a binary is missing, or fails it in CI.
func need(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := findBinary(b, "/usr/sbin/"+b); err != nil {
			if InCI() {
				t.Fatalf("CI=true but %v", err)
			}
			t.Skipf("!!! SKIPPING: %v; run `make deps` (as root) to install the servers", err)
		}
	}
}

// unavailable fails in CI and skips elsewhere when a server cannot start.
func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but %s cannot start: %v", what, err)
	}
	t.Skipf("!!! SKIPPING: %s cannot start: %v", what, err)
}

func startSSHD(t *testing.T) *SSHD {
	t.Helper()
	need(t, "sshd", "ssh")
	s, err := StartSSHD()
	if err != nil {
		unavailable(t, "sshd", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sshd: %v", err)
		}
		if pids := s.Processes(); len(pids) > 0 {
			t.Errorf("processes %v of the sshd survive Close", pids)
		}
		if exists(s.Dir) {
			t.Errorf("Close left %s behind", s.Dir)
		}
	})
	return s
}

// runSSH runs the OpenSSH client against s with a deadline.
func runSSH(s *SSHD, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", append(s.SSHArgs(), args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// syncBuffer collects a running command's output for reading at any time.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func TestSSHD(t *testing.T) {
	t0 := time.Now()
	s := startSSHD(t)
	t.Logf("StartSSHD took %v: %s, home %s", time.Since(t0), s.Addr, s.Home)

	// StrictHostKeyChecking yes with the bed's known_hosts: the host key
	// is verified, not learnt.
	out, err := runSSH(s, "", s.HostAlias, "echo $HOME; id -u")
	if err != nil {
		t.Fatalf("ssh: %v: %s\nsshd log: %s", err, out, tail(s.Log))
	}
	if want := fmt.Sprintf("%s\n%d\n", s.Home, os.Getuid()); out != want {
		t.Fatalf("ssh printed %q, want %q", out, want)
	}

	// The session's exit status and stdin pass through.
	if out, err := runSSH(s, "", s.HostAlias, "exit 7"); exitCode(err) != 7 {
		t.Errorf("exit 7 through ssh: %v: %s", err, out)
	}
	if out, err := runSSH(s, "through stdin\n", s.HostAlias, "cat"); err != nil || out != "through stdin\n" {
		t.Errorf("cat through ssh: %v: %q", err, out)
	}

	// A host key that is not the server's is refused.
	bad := s.KnownHosts + ".other"
	if _, err := sandbox.WriteKey(bad+"-key", "other"); err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(bad + "-key.pub")
	if err := os.WriteFile(bad, []byte(fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runSSH(s, "", "-o", "UserKnownHostsFile="+bad, s.HostAlias, "true"); err == nil {
		t.Errorf("ssh accepted a host key missing from known_hosts: %s", out)
	}

	t0 = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(t0))
	if c, err := net.DialTimeout("tcp", s.Addr, 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s accepts connections after Stop", s.Addr)
	}
	if out, err := runSSH(s, "", s.HostAlias, "true"); err == nil {
		t.Fatalf("ssh succeeded after Stop: %s", out)
	}
	t0 = time.Now()
	if err := s.Start(); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	t.Logf("Start took %v", time.Since(t0))
	if out, err := runSSH(s, "", s.HostAlias, "echo again"); err != nil || out != "again\n" {
		t.Fatalf("ssh after Start: %v: %q", err, out)
	}
}

func TestSSHDConnectionPIDs(t *testing.T) {
	s := startSSHD(t)
	cmd := exec.Command("ssh", append(s.SSHArgs(), s.HostAlias, "sleep 30")...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-done
	}()

	// Wait for the remote command, so that the connection is complete.
	var pids []int
	for deadline := time.Now().Add(15 * time.Second); ; {
		var err error
		if pids, err = s.ConnectionPIDs(); err != nil {
			t.Fatal(err)
		}
		if len(pids) > 0 && len(s.Processes()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no remote session within 15s (connection pids %v): %s\nsshd log: %s", pids, out.String(), tail(s.Log))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("connection pids %v", pids)
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", p, err)
		}
	}
	select {
	case err := <-done:
		done <- err // for the deferred cleanup
		t.Logf("ssh exited: %v: %s", err, strings.TrimSpace(out.String()))
		if err == nil {
			t.Error("ssh exited successfully after its connection was killed")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ssh did not exit within 15s of killing its connection's sshd processes")
	}
	// The remote `sleep 30` outlives its connection (no pty, no SIGHUP);
	// Close must find and kill it all the same.
	if len(s.Processes()) == 0 {
		t.Error("the remote sleep died with its connection; expected it orphaned")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if pids := s.Processes(); len(pids) > 0 {
		t.Fatalf("session processes %v survive Close", pids)
	}
}

// waitFor polls cond every 100ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestXpraAttachOverSSH(t *testing.T) {
	need(t, "sshd", "ssh", "xpra", "Xvfb", "xauth", "xeyes", "xwininfo")
	xvfb, err := StartXvfb("1024x768x24")
	if err != nil {
		unavailable(t, "Xvfb", err)
	}
	defer xvfb.Close()

	t0 := time.Now()
	x, err := StartXpra(FreeDisplay(20), "xeyes")
	if err != nil {
		unavailable(t, "xpra", err)
	}
	defer func() {
		if err := x.Close(); err != nil {
			t.Errorf("close xpra: %v", err)
		}
		if n, _ := ProcessCount("Xvfb-for-Xpra-" + x.Name + " "); n != 0 {
			t.Errorf("%d Xvfb of xpra %s survive Close", n, x.Name)
		}
		if exists(x.Dir) {
			t.Errorf("Close left %s behind", x.Dir)
		}
	}()
	t.Logf("StartXpra(%d) took %v", x.Display, time.Since(t0))

	s := startSSHD(t)
	if err := s.WriteXpraClientDefaults(); err != nil {
		t.Fatal(err)
	}

	// The remote command does not spell "xpra attach :N" itself, so that
	// the local ssh process does not count in ProcessCount.
	pattern := "xpra attach " + x.Name
	t1 := time.Now()
	ssh := exec.Command("ssh", append(s.SSHArgs(), "-Y", s.HostAlias, "D="+x.Name+"; exec xpra attach $D")...)
	ssh.Env = append(os.Environ(), xvfb.Env()...)
	var out syncBuffer
	ssh.Stdout, ssh.Stderr = &out, &out
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ssh.Wait() }()
	defer func() {
		_ = ssh.Process.Kill()
		<-done
	}()
	dead := func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
			return false
		}
	}

	tree := func() string {
		cmd := exec.Command("xwininfo", "-root", "-tree", "-display", xvfb.Name)
		cmd.Env = append(os.Environ(), "XAUTHORITY="+xvfb.XAuthority)
		b, _ := cmd.CombinedOutput()
		return string(b)
	}
	var counted time.Duration
	if !waitFor(30*time.Second, func() bool {
		if n, _ := ProcessCount(pattern); n == 1 && counted == 0 {
			counted = time.Since(t1)
		}
		return dead() || strings.Contains(tree(), "xeyes")
	}) || dead() {
		t.Fatalf("no xeyes window on %s within 30s (ssh exited: %v)\nssh: %s\nwindows: %s", xvfb.Name, dead(), out.String(), tree())
	}
	t.Logf("attach: `%s` counted after %v, window after %v", pattern, counted, time.Since(t1))
	if n, err := ProcessCount(pattern); n != 1 {
		t.Fatalf("ProcessCount(%q) = %d, %v; want 1", pattern, n, err)
	}

	_ = ssh.Process.Kill()
	t2 := time.Now()
	if !waitFor(15*time.Second, func() bool { n, _ := ProcessCount(pattern); return n == 0 }) {
		t.Fatalf("the remote %q survives its ssh client by 15s", pattern)
	}
	t.Logf("remote xpra attach exited %v after its ssh client", time.Since(t2))
	if strings.Contains(tree(), "xeyes") {
		t.Error("the xeyes window stays after the client went away")
	}

	// A dead server, and back.
	t3 := time.Now()
	if err := x.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	t.Logf("Kill took %v", time.Since(t3))
	if n, _ := ProcessCount("Xvfb-for-Xpra-" + x.Name + " "); n != 0 {
		t.Fatalf("%d Xvfb of xpra %s survive Kill", n, x.Name)
	}
	if x.Accepting() {
		t.Fatal("the socket of a killed xpra server accepts connections")
	}
	t4 := time.Now()
	if err := x.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	t.Logf("Restart took %v", time.Since(t4))
	if !x.Accepting() {
		t.Fatal("the restarted xpra server does not accept connections")
	}
}

// TestFreeDisplay checks that FreeDisplay never hands out a number twice
// and skips a display with a lock file.
func TestFreeDisplay(t *testing.T) {
	n := FreeDisplay(150)
	if m := FreeDisplay(150); m == n {
		t.Fatalf("FreeDisplay handed out %d twice", n)
	}
	n = FreeDisplay(n)
	lock := "/tmp/.X" + strconv.Itoa(n+1) + "-lock"
	if err := os.WriteFile(lock, []byte("1\n"), 0o644); err != nil {
		t.Skipf("cannot create %s: %v", lock, err)
	}
	defer os.Remove(lock)
	if m := FreeDisplay(n); m <= n+1 {
		t.Fatalf("FreeDisplay(%d) = %d despite %s", n, m, lock)
	}
}
