package main

import (
	"errors"
	"testing"

	"github.com/perchdesk/perch/internal/app"
)

func TestParse(t *testing.T) {
	t.Setenv("DISPLAY", ":7")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	o, err := parse([]string{"--config", "/c.toml", "auto", "--socket", "/s.sock", "-v"})
	if err != nil {
		t.Fatal(err)
	}
	want := options{config: "/c.toml", socket: "/s.sock", display: ":7", verbose: true, profile: "auto"}
	if o != want {
		t.Errorf("parse = %+v, want %+v", o, want)
	}
	o, err = parse(nil)
	if err != nil || o.socket != "/run/user/7/perch/control.sock" || o.profile != "" {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	var ue *app.UsageError
	if _, err := parse([]string{"a", "b"}); !errors.As(err, &ue) {
		t.Errorf("two profiles: %v, want a usage error", err)
	}
	if _, err := parse([]string{"--nope"}); !errors.As(err, &ue) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
}
