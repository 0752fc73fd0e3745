// Package mutter reads and applies monitor layouts on GNOME through Mutter's
// org.gnome.Mutter.DisplayConfig interface on the session D-Bus: it reads
// GetCurrentState, has Mutter verify a whole configuration (method 0), then
// applies it as temporary (method 1), and watches MonitorsChanged.
package mutter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/perchdesk/perch/layout"
)

// The D-Bus names of Mutter's display configuration.
const (
	BusName   = "org.gnome.Mutter.DisplayConfig"
	path      = "/org/gnome/Mutter/DisplayConfig"
	iface     = "org.gnome.Mutter.DisplayConfig"
	verify    = 0
	temporary = 1
)

// The wire forms of GetCurrentState and ApplyMonitorsConfig.
type (
	monitorSpec struct{ Connector, Vendor, Product, Serial string }
	modeInfo    struct {
		ID             string
		Width, Height  int32
		Refresh        float64
		PreferredScale float64
		Scales         []float64
		Props          map[string]dbus.Variant
	}
	monitorInfo struct {
		Spec  monitorSpec
		Modes []modeInfo
		Props map[string]dbus.Variant
	}
	logicalInfo struct {
		X, Y      int32
		Scale     float64
		Transform uint32
		Primary   bool
		Monitors  []monitorSpec
		Props     map[string]dbus.Variant
	}
	applyMonitor struct {
		Connector, ModeID string
		Props             map[string]dbus.Variant
	}
	applyLogical struct {
		X, Y      int32
		Scale     float64
		Transform uint32
		Primary   bool
		Monitors  []applyMonitor
	}
)

// Backend is Mutter's display configuration on one session bus.
type Backend struct {
	conn *dbus.Conn
	obj  dbus.BusObject
	// modes keeps each state's full mode list per connector, with scales.
	modes map[string][]modeInfo
}

// Dial connects to the session bus (DBUS_SESSION_BUS_ADDRESS) and checks
// that Mutter's DisplayConfig is on it.
func Dial(ctx context.Context) (*Backend, error) {
	return DialBus(ctx, os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
}

// DialBus is Dial on the bus at addr.
func DialBus(ctx context.Context, addr string) (*Backend, error) {
	if addr == "" {
		return nil, fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is not set", ErrNotRunning)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the session D-Bus: %w", err)
	}
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, BusName).Store(&has); err != nil {
		conn.Close()
		return nil, fmt.Errorf("session D-Bus: %w", err)
	}
	if !has {
		conn.Close()
		return nil, ErrNotRunning
	}
	return &Backend{conn: conn, obj: conn.Object(BusName, path)}, nil
}

// ErrNotRunning: the session bus has no Mutter DisplayConfig (not GNOME).
var ErrNotRunning = errors.New(BusName + " is not on the session D-Bus (this is not a GNOME session)")

// Name is the backend's name as `perch outputs` shows it.
func (b *Backend) Name() string { return "mutter" }

// Close closes the bus connection.
func (b *Backend) Close() error { return b.conn.Close() }

// State reads Mutter's current monitors and logical monitors.
func (b *Backend) State(ctx context.Context) (*layout.Screen, error) {
	var (
		serial   uint32
		monitors []monitorInfo
		logical  []logicalInfo
		props    map[string]dbus.Variant
	)
	err := b.obj.CallWithContext(ctx, iface+".GetCurrentState", 0).Store(&serial, &monitors, &logical, &props)
	if err != nil {
		return nil, fmt.Errorf("read the monitors from Mutter (GetCurrentState): %w", err)
	}
	sc := &layout.Screen{Backend: "GNOME (Mutter)", Serial: serial}
	if v, ok := props["layout-mode"]; ok {
		if m, ok := v.Value().(uint32); ok && m == 2 {
			sc.Physical = true
		}
	}
	b.modes = map[string][]modeInfo{}
	for _, m := range monitors {
		b.modes[m.Spec.Connector] = m.Modes
		sc.Outputs = append(sc.Outputs, output(m, logical))
	}
	return sc, nil
}

// output turns one monitor and the logical monitor that shows it (if
// any) into the planner's form.
func output(m monitorInfo, logical []logicalInfo) layout.Output {
	o := layout.Output{
		Name: m.Spec.Connector, Make: m.Spec.Vendor, Model: m.Spec.Product, Serial: m.Spec.Serial,
		Current: -1, Rotations: layout.AllRotations,
	}
	if v, ok := m.Props["display-name"]; ok {
		o.Description, _ = v.Value().(string)
	}
	for i, md := range m.Modes {
		lm := layout.Mode{ID: md.ID, Width: int(md.Width), Height: int(md.Height), Refresh: md.Refresh,
			Preferred: flag(md.Props, "is-preferred"), Interlaced: flag(md.Props, "is-interlaced")}
		o.Modes = append(o.Modes, lm)
		if flag(md.Props, "is-current") {
			o.Current, o.CurrentMode = i, lm
		}
	}
	for _, l := range logical {
		for _, s := range l.Monitors {
			if s.Connector != m.Spec.Connector {
				continue
			}
			o.Enabled, o.X, o.Y, o.Scale, o.Primary = true, int(l.X), int(l.Y), l.Scale, l.Primary
			o.Rotation = layout.FromWayland(l.Transform)
		}
	}
	if !o.Enabled {
		o.Current = -1
	}
	return o
}

func flag(props map[string]dbus.Variant, key string) bool {
	v, ok := props[key]
	if !ok {
		return false
	}
	b, _ := v.Value().(bool)
	return b
}

// scaleFor keeps the output's scale when the chosen mode supports it, else
// takes the mode's preferred scale.
func (b *Backend) scaleFor(s layout.Set) float64 {
	for _, m := range b.modes[s.Name] {
		if m.ID != s.Mode.ID {
			continue
		}
		for _, sc := range m.Scales {
			if math.Abs(sc-s.Scale) < 0.001 {
				return sc
			}
		}
		if m.PreferredScale > 0 {
			return m.PreferredScale
		}
	}
	return 1
}

// config is the target as ApplyMonitorsConfig's logical monitors: one per
// output that is on; the others are left out, which turns them off.
// Mutter wants one primary: the one the profile names, else the current
// primary if it stays on, else the first.
func (b *Backend) config(t *layout.Target) []applyLogical {
	var ls []applyLogical
	primary := -1
	for i, s := range t.On {
		ls = append(ls, applyLogical{
			X: int32(s.X), Y: int32(s.Y), Scale: b.scaleFor(s), Transform: s.Rotation.Wayland(),
			Monitors: []applyMonitor{{Connector: s.Name, ModeID: s.Mode.ID, Props: map[string]dbus.Variant{}}},
		})
		if s.Primary {
			primary = i
		}
	}
	if primary < 0 && t.Before != nil {
		for i, s := range t.On {
			if o, ok := t.Before.Output(s.Name); ok && o.Primary && o.Enabled {
				primary = i
			}
		}
	}
	if primary < 0 && len(ls) > 0 {
		primary = 0
	}
	if primary >= 0 {
		ls[primary].Primary = true
	}
	return ls
}

// Apply has Mutter verify the whole target, then applies it as a temporary
// configuration (GNOME's settings and monitors.xml keep theirs). A target
// Mutter refuses changes nothing and comes back as a *Refusal.
func (b *Backend) Apply(ctx context.Context, t *layout.Target) error {
	if t.Unchanged() {
		return nil
	}
	for _, s := range t.On {
		if s.Custom || s.Mode.ID == "" {
			return layout.Refuse(s.Name, "GNOME (Mutter) takes only the modes a monitor lists; %s is not one", s.Mode)
		}
	}
	ls := b.config(t)
	props := map[string]dbus.Variant{}
	for _, method := range []uint32{verify, temporary} {
		call := b.obj.CallWithContext(ctx, iface+".ApplyMonitorsConfig", 0, t.Before.Serial, method, ls, props)
		if call.Err != nil {
			return refusal(call.Err, method)
		}
	}
	return nil
}

// Watch delivers a value each time Mutter's monitors change, until ctx
// ends; then the channel is closed.
func (b *Backend) Watch(ctx context.Context) (<-chan struct{}, error) {
	rule := []dbus.MatchOption{dbus.WithMatchObjectPath(path), dbus.WithMatchInterface(iface), dbus.WithMatchMember("MonitorsChanged")}
	if err := b.conn.AddMatchSignalContext(ctx, rule...); err != nil {
		return nil, fmt.Errorf("watch Mutter's monitors: %w", err)
	}
	sigs := make(chan *dbus.Signal, 16)
	b.conn.Signal(sigs)
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		defer b.conn.RemoveSignal(sigs)
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-sigs:
				if !ok {
					return
				}
				if s.Name != iface+".MonitorsChanged" {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}

// Refusal is Mutter refusing a configuration; nothing was changed.
type Refusal struct {
	Kind   string // "stale", "not adjacent", "mode", "other"
	Mutter string // Mutter's own message
	Verify bool   // refused by the verify step
}

func (r *Refusal) Error() string {
	what := map[string]string{
		"stale":        "the monitors changed after perch read them (Mutter's serial is stale); run it again",
		"not adjacent": "GNOME needs every monitor to touch another one (no gaps, no overlap)",
		"mode":         "GNOME does not know one of the modes asked for",
		"overlap":      "GNOME refuses monitors that overlap",
	}[r.Kind]
	if what == "" {
		what = "GNOME (Mutter) refused the layout"
	}
	return fmt.Sprintf("%s: Mutter said %q; nothing was changed", what, r.Mutter)
}

// Is makes a refusal other than a stale serial a refused layout (exit 2).
func (r *Refusal) Is(target error) bool { return target == layout.ErrLayout && r.Kind != "stale" }

// refusal classifies Mutter's error from ApplyMonitorsConfig.
func refusal(err error, method uint32) error {
	var de dbus.Error
	if !errors.As(err, &de) {
		return fmt.Errorf("apply the layout through Mutter: %w", err)
	}
	msg := de.Name
	if len(de.Body) > 0 {
		if s, ok := de.Body[0].(string); ok {
			msg = s
		}
	}
	low := strings.ToLower(msg)
	r := &Refusal{Kind: "other", Mutter: msg, Verify: method == verify}
	switch {
	case strings.Contains(low, "stale"):
		r.Kind = "stale"
	case strings.Contains(low, "adjacent"):
		r.Kind = "not adjacent"
	case strings.Contains(low, "overlap"):
		r.Kind = "overlap"
	case strings.Contains(low, "mode"):
		r.Kind = "mode"
	}
	return r
}
