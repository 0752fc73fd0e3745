// Package hostsns runs a test again in a private mount namespace where
// /etc/hosts is the test's own, so that both OpenSSH (glibc) and perch
// (Go's resolver) resolve the names the test makes up.
package hostsns

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// envVar marks the process running inside the namespace.
const envVar = "PERCH_HOSTS_NS"

// Inside reports whether this process runs in the namespace Run made, and
// fails t if it claims to but /etc/hosts is not hosts.
func Inside(t *testing.T, hosts string) bool {
	t.Helper()
	if os.Getenv(envVar) == "" {
		return false
	}
	if data, _ := os.ReadFile("/etc/hosts"); string(data) != hosts {
		t.Fatalf("not in the test's mount namespace: /etc/hosts is\n%s", data)
	}
	return true
}

// runTimeout bounds the test run in the namespace.
const runTimeout = 5 * time.Minute

// Run runs the test named test (this binary, -test.run ^test$) in a mount
// namespace (unshare -m as root, else in a user namespace too) with hosts
// bind-mounted on /etc/hosts, and fails t unless it passed there. Off CI
// it skips loudly where no namespace can be made.
func Run(t *testing.T, test, hosts string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		if testbed.InCI() {
			t.Fatalf("CI=true but unshare is missing: %v", err)
		}
		t.Skipf("!!! SKIPPING: unshare is missing (%v)", err)
	}
	file := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(file, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-m", "--propagation", "private"}
	if os.Getuid() != 0 {
		args = append([]string{"-r"}, args...)
	}
	script := `mount --bind "$1" /etc/hosts && shift && exec "$@"`
	args = append(args, "sh", "-c", script, "sh", file, os.Args[0], "-test.run", "^"+test+"$", "-test.v", "-test.count=1")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), envVar+"=1")
	// A process the test left behind must not keep the output open.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("in the namespace:\n%s", out)
	if err != nil {
		if strings.Contains(string(out), "Operation not permitted") && !testbed.InCI() {
			t.Skipf("!!! SKIPPING: no mount namespace here: %v", err)
		}
		t.Fatalf("%s in its namespace: %v", test, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("%s did not pass in its namespace", test)
	}
}
