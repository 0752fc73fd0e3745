package app

import (
	"errors"
	"fmt"
	"testing"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/xrandr"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("connect to X display :9: refused"), 1},
		{Usagef("up takes at most one PROFILE (or auto)"), 2},
		{fmt.Errorf("wrapped: %w", &config.Error{File: "c.toml", Msg: "bad"}), 2},
		{fmt.Errorf("profile x: %w", &xrandr.LayoutError{Output: "HDMI1", Msg: "no such output"}), 2},
		{&api.UserError{Msg: "no session"}, 2},
		{fmt.Errorf("profile one (c.toml:3): %w", &WaylandError{Why: "this is a Wayland session (WAYLAND_DISPLAY=wayland-0)"}), 2},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestWayland(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	state := func(names ...string) *xrandr.State {
		st := &xrandr.State{}
		for i, n := range names {
			st.Outputs = append(st.Outputs, xrandr.Output{ID: xrandr.OutputID(i + 1), Name: n})
		}
		return st
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		st   *xrandr.State
		want string
	}{
		{"Xorg", nil, state("eDP-1", "HDMI-1"), ""},
		{"Xorg dummy", nil, state("DUMMY0"), ""},
		{"no state, no Wayland", nil, nil, ""},
		{"WAYLAND_DISPLAY", map[string]string{"WAYLAND_DISPLAY": "wayland-1"}, state("eDP-1"), "this is a Wayland session (WAYLAND_DISPLAY=wayland-1)"},
		{"XWayland outputs", nil, state("XWAYLAND0", "XWAYLAND1"), "the X server is XWayland (output XWAYLAND0)"},
		{"XWayland, second output", nil, state("VIRTUAL1", "XWAYLAND3"), "the X server is XWayland (output XWAYLAND3)"},
	} {
		if got := Wayland(env(tc.vars), tc.st); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		err := CheckLayout(env(tc.vars), tc.st)
		if (err != nil) != (tc.want != "") || (err != nil && !errors.Is(err, xrandr.ErrLayout)) {
			t.Errorf("%s: CheckLayout = %v", tc.name, err)
		}
	}
}
