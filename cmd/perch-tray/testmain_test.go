package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// TestMain removes the perch-tray binary the tests built (trayBinary).
func TestMain(m *testing.M) {
	testbed.StableEnv()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
