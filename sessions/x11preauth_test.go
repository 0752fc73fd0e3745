package sessions

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/res"
	"github.com/perchdesk/perch/internal/cli/sshexec"
	"github.com/perchdesk/perch/sessions/sshdial"
	"github.com/perchdesk/perch/sessions/x11fwd"
)

// xClientSlots counts the clients of the thin client's display (X-Resource),
// or fails: a display that takes no new client is the fault looked for.
func xClientSlots(t *testing.T, b *testBed) (int, error) {
	t.Helper()
	c, err := xgb.NewConnDisplay(b.local.Name)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := res.Init(c); err != nil {
		t.Fatalf("X-Resource on %s: %v", b.local.Name, err)
	}
	r, err := res.QueryClients(c).Reply()
	if err != nil {
		return 0, err
	}
	return int(r.NumClients) - 1, nil // not this one
}

// floodScript is testdata/x11flood.py where any user can read it.
func floodScript(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("testdata/x11flood.py")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "perch-flood-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "x11flood.py")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuf is a bytes.Buffer for a writer and a reader goroutine.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestX11PreAuth: 300 connections from the server that send no setup
// request take no client slot of the local X server (perch reads and
// checks the cookie before it dials the display), and the user's own X
// programs, remote and local, still connect meanwhile.
func TestX11PreAuth(t *testing.T) {
	b := needBed(t)
	tg := b.target(t)
	x11, err := x11fwd.FindLocal(b.local.Name)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	before, err := xClientSlots(t, b)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuf
	done := make(chan error, 1)
	go func() {
		code, err := sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, "python3 "+floodScript(t)+" stall 300 6",
			sshexec.Options{Stdout: &out, Stderr: &errb, X11: x11, Log: testLogger(t)})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d", code)
		}
		done <- err
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "xdpyinfo") {
		select {
		case err := <-done:
			t.Fatalf("the flood ended early: %v\n%s%s", err, out.String(), errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flood did not connect within 90s:\n%s%s", out.String(), errb.String())
		}
	}
	// Sample the local display's clients while the stalled connections
	// are held (6 s), until the remote command ends.
	peak, localErr := before, error(nil)
	for sampling := true; sampling; {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the flood: %v\n%s", err, errb.String())
			}
			sampling = false
		case <-time.After(200 * time.Millisecond):
			c, err := xClientSlots(t, b)
			if err != nil {
				localErr = err
			}
			peak = max(peak, c)
		}
	}
	t.Logf("local X clients: %d before, at most %d with %d unauthenticated forwarded connections", before, peak, n)
	if !strings.Contains(out.String(), "open 300") || !strings.Contains(out.String(), "xdpyinfo ok") {
		t.Errorf("the remote user's own program during the flood: %q", out.String())
	}
	if localErr != nil {
		t.Errorf("a local X client during the flood: %v", localErr)
	}
	if peak > before {
		t.Errorf("%d unauthenticated connections took %d local X client slots (want 0)", n, peak-before)
	}
}

// TestX11RejectionLogBounded: a flood of forged cookies writes a few log
// lines, one of them with the count, not one line each.
func TestX11RejectionLogBounded(t *testing.T) {
	b := needBed(t)
	tg := b.target(t)
	x11, err := x11fwd.FindLocal(b.local.Name)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var out, errb bytes.Buffer
	code, err := sshexec.Run(context.Background(), tg, sshdial.Options{Policy: "strict"}, "python3 "+floodScript(t)+" forged 200 2",
		sshexec.Options{Stdout: &out, Stderr: &errb, X11: x11, Log: log})
	if err != nil || code != 0 {
		t.Fatalf("the forged flood: %d %v\n%s%s", code, err, out.String(), errb.String())
	}
	lines := strings.Count(logs.String(), "X11 connection rejected")
	t.Logf("200 forged cookies: %d log lines", lines)
	if lines == 0 || lines > 3 {
		t.Errorf("200 forged cookies wrote %d warnings, want 1 to 3:\n%s", lines, logs.String())
	}
}
