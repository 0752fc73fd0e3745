package sessions

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/cli/sshexec"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// TestDropKeepsTheOthers: four displays, then two of them (the desk → sofa
// case): the two kept stay attached with no restart, also after the
// dropped ones were stopped the hard way (their X11 connections closed,
// when sshd cannot signal their commands).
func TestDropKeepsTheOthers(t *testing.T) {
	b := needBed(t)
	displays := b.displays()
	l := b.newLink(t, displaySpecs(displays), nil)
	stop := run(t, l)
	defer stop()
	waitFor(t, l, 60*time.Second, "four displays attached", allAttached)
	l.SetSessions(displaySpecs(displays[:2])) // returns once the dropped ones stopped
	waitRemote(t, displays[2:], 0, 20*time.Second)
	// The kept xpra attach ended within 3 s of the others' stop, before:
	// give them 6 s to fail.
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		st := l.Status()
		for _, s := range st.Sessions {
			if s.Restarts != 0 || s.State != api.SessionAttached {
				t.Fatalf("kept session %s: %s, restarts %d, last error %q", s.Name, s.State, s.Restarts, s.LastError)
			}
		}
		select {
		case <-l.Changes():
		case <-time.After(100 * time.Millisecond):
		}
	}
	waitRemote(t, displays[:2], 1, 5*time.Second)
}

// TestSessionsUnprivileged: the bed's sessions run as a user other than
// root (unless PERCH_TEST_REMOTE_USER=root asks for the root login), so
// the tests take the path users take: sshd signals the sessions.
func TestSessionsUnprivileged(t *testing.T) {
	b := needBed(t)
	var out, errb bytes.Buffer
	code, err := sshexec.Run(context.Background(), b.target(t), sshdial.Options{Policy: "strict"}, "id -u",
		sshexec.Options{Stdout: &out, Stderr: &errb, Log: testLogger(t)})
	if err != nil || code != 0 {
		t.Fatalf("id -u: %d %v %s", code, err, errb.String())
	}
	uid := strings.TrimSpace(out.String())
	if testbed.RemoteUser() == "" && os.Getuid() == 0 {
		t.Skip("!!! PERCH_TEST_REMOTE_USER=root: the root login is under test")
	}
	if uid == "0" {
		t.Errorf("the sessions run as root (uid %s)", uid)
	}
}
