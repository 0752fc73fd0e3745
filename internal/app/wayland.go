package app

import (
	"fmt"
	"strings"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/xrandr"
)

// WaylandError refuses a layout under Wayland: XWayland's RandR shows
// its own virtual outputs (XWAYLAND0, ...), not the monitors, and cannot
// arrange them. It is a refused layout (exit 2); sessions still work.
type WaylandError struct{ Why string }

func (e *WaylandError) Error() string {
	return e.Why + ": RandR cannot arrange the monitors of a Wayland session; " +
		"arrange them in the compositor (its display settings, or kanshi, wlr-randr, swaymsg output), " +
		"and give the profile no outputs to run only its server and sessions"
}

// Is makes errors.Is(err, xrandr.ErrLayout) hold: nothing was applied.
func (e *WaylandError) Is(target error) bool { return target == xrandr.ErrLayout }

// Wayland says why RandR cannot arrange the monitors here, or "" when it
// can: WAYLAND_DISPLAY is set, or the X server is XWayland (its outputs
// are named XWAYLAND0, XWAYLAND1, ...).
func Wayland(getenv func(string) string, st *xrandr.State) string {
	if w := getenv("WAYLAND_DISPLAY"); w != "" {
		return fmt.Sprintf("this is a Wayland session (WAYLAND_DISPLAY=%s)", w)
	}
	if st == nil {
		return ""
	}
	for _, o := range st.Outputs {
		if strings.HasPrefix(strings.ToUpper(o.Name), "XWAYLAND") {
			return fmt.Sprintf("the X server is XWayland (output %s)", o.Name)
		}
	}
	return ""
}

// CheckLayout returns a WaylandError when a layout cannot be applied on
// st under getenv's environment.
func CheckLayout(getenv func(string) string, st *xrandr.State) error {
	if why := Wayland(getenv, st); why != "" {
		return &WaylandError{Why: why}
	}
	return nil
}

// waylandGuard is the agent's display, refusing layouts under Wayland.
type waylandGuard struct {
	*agent.XDisplay
	getenv func(string) string
}

func (d waylandGuard) Apply(l xrandr.Layout) (*xrandr.Plan, error) {
	st, err := d.Current()
	if err != nil {
		return nil, err
	}
	if err := CheckLayout(d.getenv, st); err != nil {
		return nil, err
	}
	return d.XDisplay.Apply(l)
}
