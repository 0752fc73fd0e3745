package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// The remote half of the bed (sshd and one xpra server), started on first
// use and stopped at the end of TestMain through stopRemote.
var (
	remoteOnce sync.Once
	remoteBed  struct {
		sshd *testbed.SSHD
		xpra *testbed.Xpra
	}
	remoteErr error
)

func stopRemote() {
	if remoteBed.xpra != nil {
		remoteBed.xpra.Close()
	}
	if remoteBed.sshd != nil {
		remoteBed.sshd.Close()
	}
}

func needRemote(t *testing.T) {
	t.Helper()
	needX(t)
	remoteOnce.Do(func() {
		remoteBed.sshd, remoteErr = testbed.StartSSHD()
		if remoteErr == nil {
			remoteErr = remoteBed.sshd.WriteXpraClientDefaults()
		}
		if remoteErr == nil {
			remoteBed.xpra, remoteErr = testbed.StartXpra(testbed.FreeDisplay(30), "xeyes")
		}
		if remoteErr != nil {
			stopRemote()
			testbed.Unavailable("sshd and xpra", remoteErr)
		}
	})
	if remoteErr != nil {
		if testbed.InCI() {
			t.Fatal(remoteErr)
		}
		t.Skipf("!!! SKIPPED: sshd/xpra cannot start here: %v", remoteErr)
	}
}

func remoteConfig(t *testing.T) string {
	return writeConfig(t, fmt.Sprintf(`default = "desk"
[server.bed]
ssh = %q
ssh_config = %q
keepalive = "500ms"

[profile.desk]
server = "bed"
displays = [%d]
[[profile.desk.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, remoteBed.xpra.Display))
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestExecCommand(t *testing.T) {
	needRemote(t)
	cfg := remoteConfig(t)
	vars := map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}
	r := perch(t, vars, "exec", "bed", "--", "sh", "-c", "'echo out; echo err >&2; exit 3'")
	if r.code != 3 || r.stdout != "out\n" || !strings.HasSuffix(r.stderr, "err\n") {
		t.Errorf("exec: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = perch(t, vars, "exec", "bed", "--", "xdpyinfo", "|", "grep", "-c", "'name of display'")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("X11 through exec: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = perch(t, vars, "exec", "nope", "--", "true")
	if r.code != 2 || !strings.Contains(r.stderr, `no server "nope" (servers: bed)`) {
		t.Errorf("unknown server: %d %q", r.code, r.stderr)
	}
	r = perch(t, vars, "exec", "bed")
	if r.code != 2 || !strings.Contains(r.stderr, "exec needs SERVER -- COMMAND") {
		t.Errorf("no command: %d %q", r.code, r.stderr)
	}
	// A server that is not there: 255, as ssh.
	dead := writeConfig(t, "[server.gone]\nssh = \"127.0.0.1:1\"\n")
	r = perch(t, map[string]string{"PERCH_CONFIG": dead}, "exec", "gone", "--", "true")
	if r.code != 255 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("dead server: %d %q", r.code, r.stderr)
	}
}

func TestUpThenSignal(t *testing.T) {
	needRemote(t)
	cfg := remoteConfig(t)
	if r := perch(t, map[string]string{"DISPLAY": bed.Name}, "layout", "apply", "--config", cfg, "desk"); r.code != 0 {
		// desk has a server, but layout apply only arranges the outputs.
		t.Fatalf("layout apply: %d %s", r.code, r.stderr)
	}
	var out, errb syncBuffer
	vars := map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	sock := filepath.Join(t.TempDir(), "control.sock")
	go func() { done <- e.run(ctx, []string{"up", "--log-format", "json", "--socket", sock}) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errb.String(), `"msg":"session attached"`) {
		if time.Now().After(deadline) {
			t.Fatalf("not attached within 60s:\n%s", errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	pattern := fmt.Sprintf("xpra attach :%d", remoteBed.xpra.Display)
	if n, _ := testbed.ProcessCount(pattern); n != 1 {
		t.Errorf("%d %q on the server while up, want 1", n, pattern)
	}
	cancel() // as SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("perch up exited %d:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("perch up did not stop within 20s")
	}
	if !strings.Contains(errb.String(), `"msg":"stopped cleanly"`) {
		t.Errorf("no clean stop logged:\n%s", errb.String())
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		n, _ := testbed.ProcessCount(pattern)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %q left on the server after perch up stopped", n, pattern)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUpRefusals(t *testing.T) {
	needX(t)
	cfg := writeConfig(t, twoScreens)
	sock := filepath.Join(t.TempDir(), "control.sock")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"up", "attic"}, 2, `no profile "attic"`},
		{[]string{"up", "rotated"}, 2, "rotation left is not supported"},
		{[]string{"up", "desk", "--log-format", "xml"}, 2, `--log-format "xml": want text or json`},
		{[]string{"up", "desk", "one"}, 2, "up takes at most one PROFILE"},
	} {
		r := perch(t, map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}, append(tc.args, "--socket", sock)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: %d %q; want %d %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if _, err := os.Stat(sock); err == nil {
			t.Errorf("%q left the socket behind", tc.args)
		}
	}
}
