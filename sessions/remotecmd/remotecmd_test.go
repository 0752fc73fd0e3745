package remotecmd

import (
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestShape: a simple command is exec'd by the login shell; one with
// shell syntax is left as written.
func TestShape(t *testing.T) {
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
		if got := Shape(in); got != want {
			t.Errorf("Shape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEnded: a command's end worded with its status and last output.
func TestEnded(t *testing.T) {
	for _, c := range []struct {
		err    error
		output string
		want   string
	}{
		{nil, "", "exited with status 0"},
		{&ssh.ExitMissingError{}, "", "ended without an exit status (connection lost?)"},
		{errors.New("wait: EOF"), "xpra: connection failed", "wait: EOF: xpra: connection failed"},
	} {
		if got := Ended(c.err, c.output).Error(); got != c.want {
			t.Errorf("Ended(%v, %q) = %q, want %q", c.err, c.output, got, c.want)
		}
	}
}
