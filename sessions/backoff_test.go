package sessions

import (
	"testing"
)

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
