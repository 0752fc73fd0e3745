package sessions

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := NewBackoff()
	b.rand = func() float64 { return 0.5 } // factor 1.0
	var got []time.Duration
	for range 9 {
		got = append(got, b.Next())
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delay %d = %s, want %s", i, got[i], want[i])
		}
	}
	b.Reset()
	if d := b.Next(); d != 500*time.Millisecond {
		t.Errorf("after Reset: %s", d)
	}
	b.rand = func() float64 { return 0 }
	if d := b.Next(); d != 750*time.Millisecond { // 1 s × 0.75
		t.Errorf("jitter low end: %s", d)
	}
	b.rand = func() float64 { return 0.999999 }
	if d := b.Next(); d < 2490*time.Millisecond || d >= 2500*time.Millisecond { // 2 s × ~1.25
		t.Errorf("jitter high end: %s", d)
	}
}

func TestRemoteCommand(t *testing.T) {
	for in, want := range map[string]string{
		"xpra attach :10":                 "exec xpra attach :10",
		"xpra attach :14 --title=@title@": "exec xpra attach :14 --title=@title@",
		"LANG=C xpra attach :1":           "LANG=C xpra attach :1",
		"sleep 60":                        "exec sleep 60",
		"exec foo":                        "exec foo",
		"a; b":                            "a; b",
		"a && b":                          "a && b",
		"echo $HOME":                      "echo $HOME",
		"":                                "",
	} {
		if got := remoteCommand(in); got != want {
			t.Errorf("remoteCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExitReason(t *testing.T) {
	if err := exitReason(nil, ""); err.Error() != "exited with status 0" {
		t.Errorf("exitReason: %v", err)
	}
}
