package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the perch-tray binary the tests built (trayBinary).
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
