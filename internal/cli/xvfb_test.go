package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestLayoutSaveOnXvfb: Xvfb's modes have no timings (0 Hz); `perch layout
// save` writes a mode that `perch layout apply` takes back ("WxH", any
// refresh), not "WxH@0.00".
func TestLayoutSaveOnXvfb(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no real-X tests")
	}
	x, err := testbed.StartXvfb("1280x800x24")
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("Xvfb is missing and CI=true: %v", err)
		}
		t.Skipf("\n*** SKIPPED: Xvfb: %v ***", err)
	}
	defer x.Close()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	vars := map[string]string{"DISPLAY": x.Name, "PERCH_CONFIG": cfg}
	r := perch(t, vars, "outputs")
	if r.code != 0 || !strings.Contains(r.stdout, "0.00") {
		t.Fatalf("perch outputs on Xvfb shows no 0 Hz mode (the case this test is about): %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := perch(t, vars, "layout", "save", "xvfb"); r.code != 0 {
		t.Fatalf("layout save: %d %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `mode = "1280x800"`) || strings.Contains(string(b), "@0") {
		t.Errorf("saved profile does not name the mode as \"1280x800\":\n%s", b)
	}
	if r := perch(t, vars, "check"); r.code != 0 {
		t.Errorf("check of the saved configuration: %d %s", r.code, r.stderr)
	}
	if r := perch(t, vars, "layout", "apply", "xvfb"); r.code != 0 {
		t.Errorf("apply of the saved profile: %d %s", r.code, r.stderr)
	}
}
