package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/perchdesk/perch/agent"
	"github.com/perchdesk/perch/desktop"
	"github.com/perchdesk/perch/xrandr"
)

// WaylandError refuses a layout under Wayland: XWayland's RandR shows
// its own virtual outputs (XWAYLAND0, ...), not the monitors, and cannot
// arrange them. It is a refused layout (exit 2); sessions still work.
type WaylandError struct{ Why string }

func (e *WaylandError) Error() string {
	return e.Why + ": RandR cannot arrange the monitors of a Wayland session, and this compositor offers " +
		"neither wlr-output-management (wlroots) nor GNOME's DisplayConfig; " +
		"arrange them in the compositor (its display settings), " +
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

// OpenWayland opens the layout backend of a Wayland session (wlroots or
// GNOME): nil, nil when RandR arranges the monitors (X11 without
// XWayland); a *WaylandError when the session is Wayland but its
// compositor offers neither backend.
func OpenWayland(ctx context.Context, getenv func(string) string, st *xrandr.State, log *slog.Logger) (*desktop.Wayland, error) {
	why := Wayland(getenv, st)
	if why == "" {
		return nil, nil
	}
	w, err := desktop.Open(ctx, getenv, log)
	if err != nil {
		if log != nil {
			log.Debug("no Wayland layout backend", "err", err)
		}
		return nil, &WaylandError{Why: why}
	}
	return w, nil
}

// waylandDisplay is the agent's display on a Wayland compositor perch can
// arrange; activity still comes from the X display (XWayland or the one
// given).
type waylandDisplay struct {
	*desktop.Wayland
	x *agent.XDisplay
}

func (d waylandDisplay) WatchActivity(ctx context.Context, after time.Duration) (<-chan time.Time, error) {
	return d.x.WatchActivity(ctx, after)
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
