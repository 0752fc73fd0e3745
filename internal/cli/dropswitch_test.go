package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestSwitchDropKeepsTheOthers: perch up with four displays, then perch
// switch to a profile of two of them with the same layout (desk → sofa):
// the two kept stay attached, with no restart.
func TestSwitchDropKeepsTheOthers(t *testing.T) {
	needRemote(t)
	displays := []int{remoteBed.xpra.Display}
	for range 3 {
		x, err := testbed.StartXpra(testbed.FreeDisplay(displays[len(displays)-1]+1), "xeyes")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = x.Close() })
		displays = append(displays, x.Display)
	}
	cfg := writeConfig(t, fmt.Sprintf(`default = "four"
[server.bed]
ssh = %q
ssh_config = %q
keepalive = "500ms"

[profile.four]
server = "bed"
displays = [%d, %d, %d, %d]
[[profile.four.output]]
name = "DUMMY0"
mode = "1024x768@60"

[profile.two]
server = "bed"
displays = [%d, %d]
[[profile.two.output]]
name = "DUMMY0"
mode = "1024x768@60"
`, remoteBed.sshd.HostAlias, remoteBed.sshd.SSHConfig, displays[0], displays[1], displays[2], displays[3], displays[0], displays[1]))
	vars := map[string]string{"DISPLAY": bed.Name, "PERCH_CONFIG": cfg}
	up := upInProcess(t, vars)
	sock := up.sock
	attached := func(s api.Status, n int) bool {
		k := 0
		for _, ss := range s.Sessions {
			if ss.State == "attached" {
				k++
			}
		}
		return len(s.Sessions) == n && k == n
	}
	waitStatus(t, sock, "four attached", 90*time.Second, func(s api.Status) bool { return attached(s, 4) })
	if r := perch(t, nil, "switch", "two", "--socket", sock); r.code != 0 {
		t.Fatalf("switch: %d %s", r.code, r.stderr)
	}
	watchStatus(t, sock, 8*time.Second, func(st api.Status) {
		for _, s := range st.Sessions {
			if s.Restarts != 0 {
				t.Fatalf("kept session %s: %s, restarts %d, last error %q", s.Name, s.State, s.Restarts, s.LastError)
			}
		}
	})
}
