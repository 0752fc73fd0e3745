package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
)

// randrTime is the X server's RandR configuration-set time: any request
// that sets a CRTC, the screen size, a mode or the primary moves it.
func randrTime(t *testing.T) uint32 {
	t.Helper()
	c, err := bed.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	return st.Timestamp
}

// TestUpProfileWithoutOutputs: on the real Xorg, sshd and xpra, `perch up`
// with a profile that lists no outputs sets nothing on the X server (its
// RandR set-time and state stay), runs the hooks and attaches the session,
// and `perch status` says the layout was left as it is; with
// WAYLAND_DISPLAY set, as in a Wayland session, where layouts are refused.
func TestUpProfileWithoutOutputs(t *testing.T) {
	needRemote(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "hooks")
	cfg := writeConfig(t, fmt.Sprintf(`[server.bed]
ssh = %q
ssh_config = %q

[profile.one]
[[profile.one.output]]
name = "DUMMY0"
mode = "1024x768@60"
primary = true

[profile.couch]
server = "bed"
displays = [%d]
before = ["echo before >> %s"]
after = ["echo after >> %s"]
`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, remoteBed.xpra.Display, marker, marker))
	vars := map[string]string{"DISPLAY": bed.Name}
	if r := perch(t, vars, "layout", "apply", "one", "--config", cfg); r.code != 0 {
		t.Fatalf("apply one: %s", r.stderr)
	}
	setTime, screen := randrTime(t), screenState(t)
	// Under Wayland too: the layout is left alone, so nothing is refused.
	upVars := map[string]string{"DISPLAY": bed.Name, "WAYLAND_DISPLAY": "wayland-0"}
	sock := upInProcess(t, upVars, "couch", "--config", cfg).sock
	waitStatus(t, sock, "the session attached", 60*time.Second, func(s api.Status) bool {
		state, _ := session(s, fmt.Sprintf(":%d", remoteBed.xpra.Display))
		return state == "attached"
	})
	r := perch(t, vars, "status", "--socket", sock)
	if r.code != 0 || !strings.Contains(r.stdout, "layout    left as it is (the profile lists no outputs)\n") {
		t.Errorf("status (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(marker); string(b) != "before\nafter\n" {
		t.Errorf("hooks: %q", b)
	}
	if got := randrTime(t); got != setTime {
		t.Errorf("the RandR set-time moved: %d → %d (a layout request reached the server)", setTime, got)
	}
	if got := screenState(t); got != screen {
		t.Errorf("the screen changed:\n%s\n%s", screen, got)
	}
}

// TestLayoutApplyWithoutOutputs: `perch layout apply` of a profile without
// outputs changes nothing and says so.
func TestLayoutApplyWithoutOutputs(t *testing.T) {
	vars := needX(t)
	cfg := writeConfig(t, twoScreens+"\n[profile.couch]\nafter = [\"true\"]\n")
	setTime, screen := randrTime(t), screenState(t)
	r := perch(t, vars, "layout", "apply", "couch", "--config", cfg)
	if r.code != 0 || r.stdout != "profile couch lists no outputs: the layout is left as it is\n" {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := perch(t, vars, "layout", "apply", "couch", "--json", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, `"unchanged": true`) {
		t.Errorf("--json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if randrTime(t) != setTime || screenState(t) != screen {
		t.Error("the screen changed")
	}
}
