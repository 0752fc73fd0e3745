package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/control"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// perchBinary builds cmd/perch once for the tests that need real signals.
var perchBin struct {
	dir  string // removed by TestMain
	path string
	err  error
	done bool
}

func buildPerch(t *testing.T) string {
	t.Helper()
	if !perchBin.done {
		perchBin.done = true
		dir, err := os.MkdirTemp("", "perch-bin-")
		perchBin.dir = dir
		if err == nil {
			perchBin.path = filepath.Join(dir, "perch")
			out, berr := exec.Command("go", "build", "-o", perchBin.path, "../../cmd/perch").CombinedOutput()
			if berr != nil {
				err = fmt.Errorf("%v\n%s", berr, out)
			}
		}
		perchBin.err = err
	}
	if perchBin.err != nil {
		t.Fatalf("build perch: %v", perchBin.err)
	}
	return perchBin.path
}

// status asks the agent on sock through the CLI, as a user would.
func status(t *testing.T, sock string) (api.Status, bool) {
	t.Helper()
	r := perch(t, nil, "status", "--json", "--socket", sock)
	if r.code != 0 {
		return api.Status{}, false
	}
	var st api.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, r.stdout)
	}
	return st, true
}

// watchStatus calls fn with every status the agent's event stream
// delivers for d (a watch window: nothing may go wrong meanwhile).
func watchStatus(t *testing.T, sock string, d time.Duration, fn func(api.Status)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := (&control.Client{Path: sock}).Watch(ctx, fn); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the event stream ended before %s: %v", d, err)
	}
}

// waitStatus waits for cond on the agent's status as its event stream
// (/v1/events) delivers it; until the agent listens, it tries again.
func waitStatus(t *testing.T, sock, what string, timeout time.Duration, cond func(api.Status) bool) api.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last api.Status
	met := false
	for !met {
		wctx, stop := context.WithCancel(ctx)
		err := (&control.Client{Path: sock}).Watch(wctx, func(st api.Status) {
			if last = st; cond(st) {
				met = true
				stop()
			}
		})
		stop()
		if met {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("timed out after %s waiting for %s (%v); last status %+v", timeout, what, err, last)
		}
		select { // not listening yet, or restarting: the socket has no event for that
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}

func session(st api.Status, name string) (state api.SessionState, restarts int) {
	for _, s := range st.Sessions {
		if s.Name == name {
			return s.State, s.Restarts
		}
	}
	return "", -1
}

// TestAgentEndToEnd runs the real perch binary as a user would: up,
// status, switch, a second up, SIGHUP reloads (broken, then fixed), and
// SIGTERM.
func TestAgentEndToEnd(t *testing.T) {
	needRemote(t)
	bin := buildPerch(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "control.sock")
	cfgPath := filepath.Join(dir, "config.toml")
	x := remoteBed.xpra.Display
	cfg := fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q
keepalive = "500ms"

[profile.a]
server = "bed"
displays = [%d]
[[profile.a.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true

[profile.b]
server = "bed"
displays = [%d]
[[profile.b.session]]
name = "extra"
command = "xclock -geometry 50x50"
[[profile.b.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true
[[profile.b.output]]
name = "DUMMY1"
mode = "800x600@60"
right-of = "DUMMY0"
`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, x, x)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "perch.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "up", "a", "--socket", sock, "--config", cfgPath)
	cmd.Env = append(os.Environ(), bed.Env()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	logText := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	name := fmt.Sprintf(":%d", x)

	st := waitStatus(t, sock, "session attached", 60*time.Second, func(s api.Status) bool {
		state, _ := session(s, name)
		return state == "attached"
	})
	if st.Profile != "a" || st.Link == nil || st.Link.State != "up" || st.PID != cmd.Process.Pid {
		t.Errorf("status: %+v", st)
	}

	// The socket is private.
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v %v", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v %v", fi.Mode(), err)
	}

	// A second agent on the same socket says who holds it.
	r := perch(t, map[string]string{"DISPLAY": bed.Name}, "up", "a", "--socket", sock, "--config", cfgPath)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("another perch agent (pid %d) holds %s", cmd.Process.Pid, sock)) {
		t.Errorf("second up: %d %q", r.code, r.stderr)
	}

	// Switch to b on the same server: the shared display stays attached.
	r = perch(t, nil, "switch", "b", "--socket", sock)
	if r.code != 0 || !strings.Contains(r.stdout, "profile b (manual)") {
		t.Fatalf("switch: %d %q %q", r.code, r.stdout, r.stderr)
	}
	st = waitStatus(t, sock, "b with extra running", 30*time.Second, func(s api.Status) bool {
		state, _ := session(s, "extra")
		return s.Profile == "b" && state == "attached"
	})
	if state, restarts := session(st, name); state != "attached" || restarts != 0 {
		t.Errorf("shared session after the switch: %s, restarts %d", state, restarts)
	}
	if st.Link.Reconnects != 0 {
		t.Errorf("the link reconnected on a switch: %+v", st.Link)
	}
	var layout []string
	for _, o := range st.Screen.Outputs {
		layout = append(layout, fmt.Sprintf("%s+%d+%d", o.Name, o.X, o.Y))
	}
	if strings.Join(layout, " ") != "DUMMY0+0+0 DUMMY1+1024+0" {
		t.Errorf("layout after the switch: %q", layout)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := testbed.ProcessCount("xclock -geometry 50x50"); n == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Errorf("%d xclock on the server, want 1", n)
			break
		}
	}
	// Bad requests are exit code 2.
	if r := perch(t, nil, "switch", "attic", "--socket", sock); r.code != 2 || !strings.Contains(r.stderr, `no profile "attic"`) {
		t.Errorf("switch attic: %d %q", r.code, r.stderr)
	}
	if r := perch(t, nil, "reconnect", "nope", "--socket", sock); r.code != 2 || !strings.Contains(r.stderr, `no session "nope"`) {
		t.Errorf("reconnect nope: %d %q", r.code, r.stderr)
	}
	// Disconnect and connect again: the display comes back.
	if r := perch(t, nil, "disconnect", "--socket", sock); r.code != 0 {
		t.Errorf("disconnect: %d %q", r.code, r.stderr)
	}
	waitStatus(t, sock, "disconnected", 20*time.Second, func(s api.Status) bool { return s.Disconnected && s.Link == nil })
	waitRemote0 := func() {
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if n, _ := testbed.ProcessCount("xpra attach " + name); n == 0 {
				return
			} else if time.Now().After(deadline) {
				t.Errorf("%d xpra attach left after disconnect", n)
				return
			}
		}
	}
	waitRemote0()
	if r := perch(t, nil, "reconnect", "--socket", sock); r.code != 0 {
		t.Errorf("reconnect: %d %q", r.code, r.stderr)
	}
	waitStatus(t, sock, "attached again", 60*time.Second, func(s api.Status) bool {
		state, _ := session(s, name)
		return state == "attached" && !s.Disconnected
	})
	// The people's table.
	if r := perch(t, nil, "status", "--socket", sock); r.code != 0 || !strings.Contains(r.stdout, "profile   b (manual)") ||
		!strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "layout    1824x768: DUMMY0 1024x768+0+0 normal primary; DUMMY1 800x600+1024+0 normal") {
		t.Errorf("status table:\n%s%s", r.stdout, r.stderr)
	}

	// SIGHUP with a broken file: reported, profile b stays.
	if err := os.WriteFile(cfgPath, []byte(cfg+"\n[profile.c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	st = waitStatus(t, sock, "the broken reload reported", 10*time.Second, func(s api.Status) bool {
		return strings.Contains(s.LastError, "reload:") && strings.Contains(s.LastError, "still running profile b")
	})
	if state, _ := session(st, name); st.Profile != "b" || state != "attached" {
		t.Errorf("after a broken reload: %s %s", st.Profile, state)
	}
	// SIGHUP with extra removed: it stops (its X client ends), the display stays.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "[[profile.b.session]]\nname = \"extra\"\ncommand = \"xclock -geometry 50x50\"\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	st = waitStatus(t, sock, "the reload applied", 10*time.Second, func(s api.Status) bool {
		return s.LastError == "" && len(s.Sessions) == 1
	})
	if state, restarts := session(st, name); state != "attached" || restarts != 0 {
		t.Errorf("after the reload: %s restarts %d", state, restarts)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := testbed.ProcessCount("xclock -geometry 50x50"); n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Errorf("%d xclock still on the server after its session was removed", n)
			break
		}
	}

	// SIGTERM: exit 0, nothing left on the server, no socket.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("perch up after SIGTERM: %v\n%s", err, logText())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("perch up did not exit within 20s of SIGTERM\n%s", logText())
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("the socket is still there")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, _ := testbed.ProcessCount("xpra attach " + name)
		s, _ := testbed.ProcessCount("xclock -geometry 50x50")
		if a == 0 && s == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left on the server: %d xpra attach, %d sleep", a, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := perch(t, nil, "status", "--socket", sock); r.code != 1 || !strings.Contains(r.stderr, "no perch agent is running") {
		t.Errorf("status after down: %d %q", r.code, r.stderr)
	}
}

const autoConfig = `
[profile.solo]
match = ["DUMMY0"]
[[profile.solo.output]]
name = "DUMMY0"
mode = "1024x768@60"

[profile.pair]
match = ["DUMMY0", "DUMMY1"]
[[profile.pair.output]]
name = "DUMMY0"
mode = "1024x768@60"
[[profile.pair.output]]
name = "DUMMY1"
mode = "800x600@60"
below = "DUMMY0"

[profile.dock]
match = ["DUMMY0", "DUMMY1", "DUMMY6"]
[[profile.dock.output]]
name = "DUMMY0"
mode = "1280x1024@60"
primary = true
[[profile.dock.output]]
name = "DUMMY6"
mode = "1024x768@60"
left-of = "DUMMY0"
`

// TestAgentAuto: auto picks the most specific match, switches when an
// output is plugged in (enabled on the dummy server), and not when the
// winner stays the same; a tie is refused.
func TestAgentAuto(t *testing.T) {
	needX(t)
	// A display of its own: plugging outputs in changes it for good.
	x, err := testbed.StartXorg(testbed.XorgOptions{Connected: 3})
	if err != nil {
		t.Fatalf("start an Xorg of the test's own: %v", err)
	}
	defer x.Close()
	cfg := writeConfig(t, autoConfig)
	sock := filepath.Join(t.TempDir(), "control.sock")
	var errb syncBuffer
	vars := map[string]string{"DISPLAY": x.Name, "PERCH_CONFIG": cfg}
	e := &env{stdin: strings.NewReader(""), stdout: &errb, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- e.run(ctx, []string{"up", "auto", "--socket", sock}) }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("up auto exited %d:\n%s", code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("up auto did not stop")
		}
	}()
	st := waitStatus(t, sock, "pair", 10*time.Second, func(s api.Status) bool { return s.Profile == "pair" })
	if st.Mode != "auto" {
		t.Errorf("mode %s", st.Mode)
	}
	if err := x.ConnectOutput("DUMMY6"); err != nil {
		t.Fatal(err)
	}
	st = waitStatus(t, sock, "dock", 10*time.Second, func(s api.Status) bool { return s.Profile == "dock" })
	if got := layoutOf(t, x); got != "DUMMY0 1280x1024+1024+0 normal; DUMMY6 1024x768+0+0 normal" {
		t.Errorf("dock layout %q", got)
	}
	since := st.Since
	// Another monitor that changes no winner: no switch, nothing applied.
	if err := x.ConnectOutput("DUMMY7"); err != nil {
		t.Fatal(err)
	}
	// The agent says when it decided to keep the profile (after its 1 s
	// debounce); the status is checked after that.
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(errb.String(), "still the best match"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no auto decision within 15s of DUMMY7:\n%s", errb.String())
		}
	}
	st, _ = status(t, sock)
	if st.Profile != "dock" || !st.Since.Equal(since) {
		t.Errorf("after DUMMY7: %s since %v (was %v)", st.Profile, st.Since, since)
	}
	if n := strings.Count(errb.String(), "auto: switching"); n != 1 {
		t.Errorf("%d auto switches logged, want 1:\n%s", n, errb.String())
	}
}

func TestAgentAutoTie(t *testing.T) {
	needX(t)
	cfg := writeConfig(t, autoConfig+`
[profile.pair2]
match = ["DUMMY1", "DUMMY0"]
[[profile.pair2.output]]
name = "DUMMY1"
mode = "1024x768@60"
`)
	sock := filepath.Join(t.TempDir(), "control.sock")
	r := perch(t, map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}, "up", "auto", "--socket", sock)
	if r.code != 2 || !strings.Contains(r.stderr, "profiles pair and pair2 match the connected outputs") {
		t.Errorf("tie: %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("the socket was left behind")
	}
}

// perch status --follow prints the status now and at every change, and
// ends when the agent stops.
func TestStatusFollow(t *testing.T) {
	needX(t)
	cfg := writeConfig(t, `
[profile.one]
[[profile.one.output]]
name = "DUMMY0"
mode = "1024x768@60"

[profile.two]
[[profile.two.output]]
name = "DUMMY0"
mode = "800x600@60"
`)
	sock := filepath.Join(t.TempDir(), "control.sock")
	vars := map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}
	var upLog syncBuffer
	up := &env{stdin: strings.NewReader(""), stdout: &upLog, stderr: &upLog, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	upDone := make(chan int, 1)
	go func() { upDone <- up.run(ctx, []string{"up", "one", "--socket", sock}) }()
	waitStatus(t, sock, "profile one", 10*time.Second, func(s api.Status) bool { return s.Profile == "one" })

	var out, errb syncBuffer
	fe := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	followDone := make(chan int, 1)
	go func() { followDone <- fe.run(ctx, []string{"status", "--follow", "--json", "--socket", sock}) }()
	profiles := func() []string {
		var ps []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var st api.Status
			if line != "" && json.Unmarshal([]byte(line), &st) == nil {
				ps = append(ps, st.Profile)
			}
		}
		return ps
	}
	waitLines := func(what string, ok func([]string) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(profiles()); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("status --follow: no %s; output:\n%s%s", what, out.String(), errb.String())
			}
		}
	}
	waitLines("first status", func(ps []string) bool { return len(ps) >= 1 && ps[0] == "one" })
	if r := perch(t, vars, "switch", "two", "--socket", sock); r.code != 0 {
		t.Fatalf("switch two: %d %s", r.code, r.stderr)
	}
	waitLines("status after the switch", func(ps []string) bool { return len(ps) >= 2 && ps[len(ps)-1] == "two" })

	if r := perch(t, vars, "down", "--socket", sock); r.code != 0 {
		t.Fatalf("down: %d %s", r.code, r.stderr)
	}
	select {
	case code := <-followDone:
		if code != 0 || !strings.Contains(errb.String(), "the agent stopped") {
			t.Errorf("status --follow after down: exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("status --follow did not end when the agent stopped")
	}
	select {
	case code := <-upDone:
		if code != 0 {
			t.Errorf("up exited %d:\n%s", code, upLog.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("up did not stop")
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
