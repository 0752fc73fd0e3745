package main

import (
	"bytes"
	"strings"
	"testing"
)

// A run's events as go test -json writes them: a passing package with a
// subtest, a failed test, a skipped one, a package whose TestMain printed a
// banner, and a package that did not build.
const stream = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestOK"}
{"Action":"run","Package":"p/a","Test":"TestOK/sub"}
{"Action":"pass","Package":"p/a","Test":"TestOK/sub","Elapsed":0}
{"Action":"pass","Package":"p/a","Test":"TestOK","Elapsed":0.1}
{"Action":"run","Package":"p/a","Test":"TestBad"}
{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    a_test.go:9: got 2, want 1\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad","Elapsed":0.2}
{"Action":"output","Package":"p/a","Output":"FAIL\n"}
{"Action":"fail","Package":"p/a","Elapsed":0.5}
{"Action":"output","Package":"p/b","Output":"!!! SKIPPING the integration tests that need sshd: not installed\n"}
{"Action":"run","Package":"p/b","Test":"TestBed"}
{"Action":"output","Package":"p/b","Test":"TestBed","Output":"=== RUN   TestBed\n"}
{"Action":"output","Package":"p/b","Test":"TestBed","Output":"    b_test.go:5: no sshd here\n"}
{"Action":"output","Package":"p/b","Test":"TestBed","Output":"--- SKIP: TestBed (0.00s)\n"}
{"Action":"skip","Package":"p/b","Test":"TestBed","Elapsed":0}
{"Action":"pass","Package":"p/b","Elapsed":0.3}
{"ImportPath":"p/c","Action":"build-output","Output":"p/c/c.go:3:1: syntax error\n"}
{"ImportPath":"p/c","Action":"build-fail"}
{"Action":"output","Package":"p/c","Output":"FAIL\tp/c [build failed]\n"}
{"Action":"fail","Package":"p/c","Elapsed":0,"FailedBuild":"p/c"}
not json: a message of go vet
`

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if got, want := s.line(), "1 passed, 2 failed, 1 skipped"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	for _, want := range []string{
		"--- FAIL: p/a TestBad (0.20s)\n    a_test.go:9: got 2, want 1\n",
		"FAIL p/a 0.50s\n",
		"p/b: !!! SKIPPING the integration tests that need sshd: not installed\n",
		"--- SKIP: p/b TestBed: b_test.go:5: no sshd here\n",
		"ok   p/b 0.30s\n",
		"FAIL p/c 0.00s\nFAIL\tp/c [build failed]\n",
		"not json: a message of go vet\n",
		"p/c/c.go:3:1: syntax error\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "TestOK") {
		t.Errorf("a passing test's name in the output:\n%s", out.String())
	}
}
