package sandbox

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// TestXpraSocketModes: a sandbox xpra server's socket is the current
// user's alone unless other users must reach it.
func TestXpraSocketModes(t *testing.T) {
	if _, err := exec.LookPath("xpra"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("xpra is missing in CI: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: no xpra here (%v); run make deps", err)
	}
	for _, tc := range []struct {
		opts XpraOptions
		want os.FileMode
	}{{XpraOptions{}, 0o600}, {XpraOptions{OtherUsers: true}, 0o666}} {
		x, err := StartXpraWith(context.Background(), FreeDisplay(90), "xeyes", tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(x.Socket())
		x.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("%+v: socket mode %o, want %o", tc.opts, got, tc.want)
		}
	}
}
