package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: a long function and a long file are reported, a long
// function said to read better whole is not, and test files are skipped.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("\tx++\n", maxFuncLines)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("long.go", "package p\n\nfunc long() {\n\tx := 0\n"+body+"\t_ = x\n}\n")
	write("whole.go", "package p\n\n// whole is a state machine that reads better whole.\nfunc whole() {\n\tx := 0\n"+body+"\t_ = x\n}\n")
	write("big.go", "package p\n"+strings.Repeat("\n", maxFileLines))
	write("big_test.go", "package p\n"+strings.Repeat("\n", maxFileLines))
	bad, err := check(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(bad, "\n")
	if len(bad) != 2 || !strings.Contains(got, "func long:") || !strings.Contains(got, "big.go:") {
		t.Errorf("violations:\n%s\nwant func long and big.go only", got)
	}
}
