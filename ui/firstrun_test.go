package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunInit: the first-run window's button runs `perch --config PATH
// init --server HOST` (the perch on $PATH here) and shows its output, or
// why it failed.
func TestRunInit(t *testing.T) {
	dir := t.TempDir()
	fake := "#!/bin/sh\necho \"args: $*\"\n[ \"$5\" = bad ] && { echo 'cannot reach bad' >&2; exit 1; }\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "perch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := runInit(context.Background(), "/home/u/.config/perch/config.toml", "office")
	if err != nil || out != "args: --config /home/u/.config/perch/config.toml init --server office" {
		t.Errorf("runInit = %q, %v", out, err)
	}
	out, err = runInit(context.Background(), "/c.toml", "bad")
	if err == nil || !strings.Contains(out, "cannot reach bad") || !strings.Contains(err.Error(), "perch init failed") {
		t.Errorf("failing init: %q, %v", out, err)
	}
	if _, err := runInit(context.Background(), "/c.toml", ""); err == nil {
		t.Error("no server named: no error")
	}
	if s := firstRunText("/home/u/.config/perch/config.toml", os.ErrNotExist); !strings.Contains(s, "/home/u/.config/perch/config.toml") || !strings.Contains(s, "perch init") {
		t.Errorf("the window's text does not name the file and the first run:\n%s", s)
	}
}
