package control

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSpeaksOnlyAPI: the control socket is a transport for the api wire
// types; it must not pull in the agent or the session machinery.
func TestSpeaksOnlyAPI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !strings.Contains(string(out), "github.com/perchdesk/perch/api\n") {
		t.Fatalf("control does not use api? deps:\n%s", out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/perchdesk/perch/agent") || strings.HasPrefix(d, "github.com/perchdesk/perch/sessions") {
			t.Errorf("control depends on %s", d)
		}
	}
}
