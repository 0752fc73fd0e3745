package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// fakeAgent is a control socket answer served by a process of another
// user (nobody), as a local attacker would run it. It serves on when a
// client hangs up first: a client that reads the peer's uid and refuses
// closes before the answer, and a dead fake agent would make the next
// call fail for another reason ("no perch agent is running").
const fakeAgent = `import socket,sys,os
s=socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1],0o777)
s.listen(8)
print("ready",flush=True)
while True:
    c,_=s.accept()
    try:
        c.recv(65536)
        c.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"pid":1,"profile":"evil"}')
    except OSError:
        pass  # a client that hung up at once (after reading our uid)
    c.close()
`

// startFakeAgent runs fakeAgent as nobody listening on path; it ends with
// the test.
func startFakeAgent(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", fakeAgent, path)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("the fake agent: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	buf := make([]byte, 6)
	ready := make(chan error, 1)
	go func() { _, err := out.Read(buf); ready <- err }()
	select {
	case err := <-ready:
		if err != nil || string(buf[:5]) != "ready" {
			t.Fatalf("the fake agent did not start: %v %q", err, buf)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fake agent did not start within 10 s")
	}
}

// TestClientTrustsOnlyItsUser plays another local user who made the
// socket's directory first, or put a socket in the user's directory: the
// client sends nothing there and says why.
func TestClientTrustsOnlyItsUser(t *testing.T) {
	testbed.NeedRoot(t, "a fake agent runs as another user")
	base, err := os.MkdirTemp("", "perch-trust-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	// 1. The fallback directory made by another user, a fake agent in it.
	theirs := filepath.Join(base, "perch-0")
	if err := os.Mkdir(theirs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(theirs, "control.sock")
	startFakeAgent(t, sock)
	// 2. The user's own private directory, another user's socket moved in.
	mine := filepath.Join(base, "mine")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(base, "planted")
	if err := os.Mkdir(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(planted, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	startFakeAgent(t, filepath.Join(planted, "control.sock"))
	if err := os.Rename(filepath.Join(planted, "control.sock"), filepath.Join(mine, "control.sock")); err != nil {
		t.Fatal(err)
	}
	// 3. A directory of the user's that others can write to.
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	startFakeAgent(t, filepath.Join(open, "control.sock"))
	for _, tc := range []struct{ path, want string }{
		{sock, theirs + " is not a directory of this user"},
		{filepath.Join(mine, "control.sock"), "it runs as uid 65534, not as you (uid 0)"},
		{filepath.Join(open, "control.sock"), open + " is writable by other users (mode 0777)"},
	} {
		c := &Client{Path: tc.path}
		ctx := context.Background()
		for name, call := range map[string]func() error{
			"status": func() error { _, err := c.Status(ctx); return err },
			"switch": func() error { _, err := c.Switch(ctx, "x"); return err },
			"down":   func() error { _, err := c.Down(ctx); return err },
			"watch":  func() error { return c.Watch(ctx, func(api.Status) {}) },
		} {
			err := call()
			var ue *UntrustedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not talking to the agent at "+tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s on %s: %v; want refused, %q", name, tc.path, err, tc.want)
			}
		}
	}
}

// TestRaceOnStaleSocket starts two agents at once where a dead agent left
// its socket: one listens, the other is refused naming it.
func TestRaceOnStaleSocket(t *testing.T) {
	for i := range 10 {
		path := filepath.Join(t.TempDir(), "control.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // a dead agent's file
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Go(func() {
				ln, err := Listen(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
				errs <- err
				if err == nil {
					_ = Serve(ctx, ln, &fakeAPI{}, func() {})
				}
			})
		}
		var won, lost int
		for range 2 {
			err := testbed.Recv(t, errs, 10*time.Second, "an agent's start")
			var he *HeldError
			switch {
			case err == nil:
				won++
			case errors.As(err, &he) && he.PID == os.Getpid():
				lost++
			default:
				t.Errorf("run %d: the loser's error: %v; want one naming the winner", i, err)
			}
		}
		if won != 1 {
			t.Errorf("run %d: %d agents listen", i, won)
		}
		if _, err := (&Client{Path: path}).Status(context.Background()); err != nil {
			t.Errorf("run %d: the winner does not answer: %v", i, err)
		}
		cancel()
		wg.Wait()
	}
}
