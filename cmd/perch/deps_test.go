package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoTestRig checks that the product binary links no test-only code:
// no package under internal/testrig (the test bed with its network
// namespace launcher, the fault proxy). `perch demo` starts its servers
// with internal/sandbox instead.
func TestNoTestRig(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "github.com/perchdesk/perch/internal/sandbox") {
		t.Fatalf("go list -deps names %d packages, without internal/sandbox: %q", len(deps), out)
	}
	for _, p := range deps {
		if strings.Contains(p, "/internal/testrig") || strings.Contains(p, "netns") || strings.Contains(p, "faultproxy") {
			t.Errorf("perch links the test-only package %s", p)
		}
	}
}
