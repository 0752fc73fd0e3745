package sessions

import (
	"testing"
	"time"
)

// TestSetSessionsBeforeRun: sessions set and then removed before Run ever
// started them are dropped at once: no nil cancel called, no wait on a
// session that never ran.
func TestSetSessionsBeforeRun(t *testing.T) {
	l := New(Options{Server: "s", Log: testLogger(t)})
	l.SetSessions([]Spec{DisplaySpec(10), DisplaySpec(11)})
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		l.SetSessions([]Spec{DisplaySpec(11)})
		l.SetSessions(nil)
	}()
	select {
	case p := <-done:
		if p != nil {
			t.Fatalf("SetSessions before Run panicked: %v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SetSessions before Run still waits after 10s for sessions that never ran")
	}
	if st := l.Status(); len(st.Sessions) != 0 {
		t.Errorf("sessions left: %+v", st.Sessions)
	}
}
