// Command testsum runs `go test -json` with the given arguments and
// reports what a plain run should: one line per package, the output of
// every failed test, every skipped test with its reason, the packages'
// own warnings (a test bed that cannot start), and last a line
// "N passed, N failed, N skipped" (top-level tests). It exits with go
// test's status, or 1 when a test failed.
//
//	go run ./scripts/testsum -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// summary collects a run's events.
type summary struct {
	out                     io.Writer
	passed, failed, skipped int
	output                  map[string][]string // by package + "\x00" + test
	failedTests             map[string]bool     // packages with a failed test
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, output: map[string][]string{}, failedTests: map[string]bool{}}
}

// add takes one event; it prints as packages finish.
func (s *summary) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output": // the compiler's messages
		fmt.Fprint(s.out, e.Output)
		return
	case "output":
		s.output[key] = append(s.output[key], e.Output)
		if e.Test == "" && isWarning(e.Output) {
			fmt.Fprintf(s.out, "%s: %s", e.Package, e.Output)
		}
		return
	case "pass", "fail", "skip":
	default:
		return
	}
	if e.Test == "" {
		s.packageDone(e)
		return
	}
	top := !strings.Contains(e.Test, "/")
	switch e.Action {
	case "pass":
		if top {
			s.passed++
		}
	case "fail":
		if top {
			s.failed++
		}
		s.failedTests[e.Package] = true
		fmt.Fprintf(s.out, "--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(s.output[key], ""))
	case "skip":
		if top {
			s.skipped++
		}
		fmt.Fprintf(s.out, "--- SKIP: %s %s: %s\n", e.Package, e.Test, skipReason(s.output[key]))
	}
	delete(s.output, key)
}

// packageDone prints a package's line; a package that failed with no
// failed test (it did not build, or TestMain gave up) shows its output
// and counts as one failure.
func (s *summary) packageDone(e event) {
	key := e.Package + "\x00"
	switch e.Action {
	case "pass":
		fmt.Fprintf(s.out, "ok   %s %.2fs\n", e.Package, e.Elapsed)
	case "skip":
		// no test files
	case "fail":
		fmt.Fprintf(s.out, "FAIL %s %.2fs\n", e.Package, e.Elapsed)
		if !s.failedTests[e.Package] {
			s.failed++
			fmt.Fprint(s.out, strings.Join(s.output[key], ""))
		}
	}
	delete(s.output, key)
}

// isWarning tells a package's own message worth showing in a plain run: a
// test bed's loud banner or a fatal set-up error.
func isWarning(line string) bool {
	return strings.Contains(line, "!!!") || strings.HasPrefix(line, "FATAL") || strings.Contains(line, "SKIPPING")
}

// skipReason is the message t.Skip printed, without go test's framing.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

// read takes every event of r; lines that are not JSON (go vet's or the
// build's own messages) are printed as they come.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(s.out, sc.Text())
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func (s *summary) line() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failed, s.skipped)
}

func main() {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum: start go test:", err)
		os.Exit(1)
	}
	s := newSummary(os.Stdout)
	readErr := s.read(stdout)
	err = cmd.Wait()
	fmt.Println(s.line())
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil || readErr != nil:
		fmt.Fprintln(os.Stderr, "testsum:", errors.Join(err, readErr))
		code = 1
	}
	if code == 0 && s.failed > 0 {
		code = 1
	}
	os.Exit(code)
}
