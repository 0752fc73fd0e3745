// Package wlr reads and applies monitor layouts on wlroots compositors
// (sway, river, labwc, ...) through the wlr-output-management-unstable-v1
// Wayland protocol, spoken directly on the compositor's socket: heads and
// modes are read after the manager's done event, a configuration is
// tested before it is applied, and done events after the first tell that
// the outputs changed.
package wlr

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/perchdesk/perch/layout"
)

// Backend is one connection to a wlroots compositor's output manager.
type Backend struct{ c *client }

// Dial connects to the compositor named by getenv's WAYLAND_DISPLAY and
// XDG_RUNTIME_DIR, binds zwlr_output_manager_v1 (up to version 4) and
// waits for its first complete state. ErrNoProtocol when the compositor
// lacks it.
func Dial(ctx context.Context, getenv func(string) string) (*Backend, error) {
	c, err := dial(ctx, getenv)
	if err != nil {
		return nil, err
	}
	b := &Backend{c: c}
	if err := b.bind(ctx); err != nil {
		c.close()
		return nil, err
	}
	return b, nil
}

func (b *Backend) bind(ctx context.Context) error {
	c := b.c
	c.mu.Lock()
	reg := c.newID(kRegistry)
	c.mu.Unlock()
	if err := c.send(new(Builder).Uint(reg).Msg(displayID, reqDisplayGetRegistry)); err != nil {
		return err
	}
	if err := c.roundtrip(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	name, version := c.mgrName, c.version
	if name == 0 {
		c.mu.Unlock()
		return ErrNoProtocol
	}
	c.manager = c.newID(kManager)
	mgr := c.manager
	c.mu.Unlock()
	bind := new(Builder).Uint(name).String(ManagerInterface).Uint(version).Uint(mgr).Msg(reg, reqRegistryBind)
	if err := c.send(bind); err != nil {
		return err
	}
	return c.wait(ctx, func() bool { return c.dones > 0 })
}

// Name is the backend's name as `perch outputs` shows it.
func (b *Backend) Name() string { return "wlroots" }

// Version is the version of zwlr_output_manager_v1 bound: make, model
// and serial number come with version 2 and later.
func (b *Backend) Version() uint32 {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	return b.c.version
}

// Close closes the connection.
func (b *Backend) Close() error { return b.c.close() }

// State reads the heads after a round trip, as of the last done event.
func (b *Backend) State(ctx context.Context) (*layout.Screen, error) {
	if err := b.c.roundtrip(ctx); err != nil {
		return nil, err
	}
	c := b.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return nil, fmt.Errorf("the compositor stopped its output manager")
	}
	sc := &layout.Screen{Backend: "wlroots", CustomModes: true, Serial: c.serial}
	for _, id := range c.order {
		h := c.heads[id]
		o := layout.Output{
			Name: h.name, Description: h.description, Make: h.make, Model: h.model, Serial: h.serial,
			Enabled: h.enabled, X: h.x, Y: h.y, Rotation: layout.FromWayland(uint32(h.transform)),
			Scale: h.scale, MmWidth: h.mmW, MmHeight: h.mmH, Current: -1,
		}
		for i, mid := range h.modes {
			md := c.modes[mid]
			lm := layout.Mode{ID: strconv.FormatUint(uint64(mid), 10), Width: md.w, Height: md.h,
				Refresh: float64(md.refresh) / 1000, Preferred: md.preferred}
			o.Modes = append(o.Modes, lm)
			if h.enabled && mid == h.current {
				o.Current, o.CurrentMode = i, lm
			}
		}
		sc.Outputs = append(sc.Outputs, o)
	}
	return sc, nil
}

// Refusal is the compositor refusing a configuration.
type Refusal struct {
	Stale   bool // cancelled: the outputs changed after perch read them
	Applied bool // refused at apply, after its test had passed
}

func (r *Refusal) Error() string {
	switch {
	case r.Stale:
		return "the outputs changed after perch read them (the compositor cancelled the configuration); nothing was changed: run it again"
	case r.Applied:
		return "the compositor failed to apply the layout after its test had passed; it should have kept the previous one"
	}
	return "the compositor refused the layout in its test (a mode, position, rotation or scale it cannot show, " +
		"or an output it cannot turn off); nothing was changed"
}

// Is makes a refusal in the test a refused layout (exit 2).
func (r *Refusal) Is(target error) bool { return target == layout.ErrLayout && !r.Stale && !r.Applied }

// Apply tests the whole target in one configuration, then applies it in a
// second one; the outputs it does not list are disabled. A refusal changes
// nothing and comes back as a *Refusal.
func (b *Backend) Apply(ctx context.Context, t *layout.Target) error {
	if t.Unchanged() {
		return nil
	}
	for _, op := range []uint16{reqConfigTest, reqConfigApply} {
		res, err := b.configure(ctx, t, op)
		if err != nil {
			return err
		}
		switch res {
		case "succeeded":
		case "cancelled":
			return &Refusal{Stale: true}
		default:
			return &Refusal{Applied: op == reqConfigApply}
		}
	}
	return nil
}

// configure sends one configuration for t ending in op (test or apply)
// and returns the compositor's answer: succeeded, failed or cancelled.
func (b *Backend) configure(ctx context.Context, t *layout.Target, op uint16) (string, error) {
	c := b.c
	c.mu.Lock()
	cfg := c.newID(kConfig)
	msgs := []Message{new(Builder).Uint(cfg).Uint(t.Before.Serial).Msg(c.manager, reqManagerCreateConfiguration)}
	on := map[string]bool{}
	for _, s := range t.On {
		on[s.Name] = true
		m, err := c.enable(cfg, s)
		if err != nil {
			c.mu.Unlock()
			return "", err
		}
		msgs = append(msgs, m...)
	}
	for _, id := range c.order {
		if !on[c.heads[id].name] {
			msgs = append(msgs, new(Builder).Uint(id).Msg(cfg, reqConfigDisableHead))
		}
	}
	msgs = append(msgs, new(Builder).Msg(cfg, op))
	c.mu.Unlock()
	if err := c.send(msgs...); err != nil {
		return "", err
	}
	var res string
	err := c.wait(ctx, func() bool { res = c.results[cfg]; return res != "" })
	c.mu.Lock()
	delete(c.results, cfg)
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return res, c.send(new(Builder).Msg(cfg, reqConfigDestroy))
}

// enable is the requests that turn one head on as s says; call with mu
// held.
func (c *client) enable(cfg uint32, s layout.Set) ([]Message, error) {
	hid := uint32(0)
	for _, id := range c.order {
		if c.heads[id].name == s.Name {
			hid = id
		}
	}
	if hid == 0 {
		return nil, fmt.Errorf("output %s is gone: the outputs changed after perch read them; nothing was changed", s.Name)
	}
	ch := c.newID(kConfigHead)
	msgs := []Message{new(Builder).Uint(ch).Uint(hid).Msg(cfg, reqConfigEnableHead)}
	mid, err := strconv.ParseUint(s.Mode.ID, 10, 32)
	if !s.Custom && err == nil && c.modes[uint32(mid)] != nil {
		msgs = append(msgs, new(Builder).Uint(uint32(mid)).Msg(ch, reqHeadSetMode))
	} else {
		mhz := int32(math.Round(s.Mode.Refresh * 1000))
		msgs = append(msgs, new(Builder).Int(int32(s.Mode.Width)).Int(int32(s.Mode.Height)).Int(mhz).Msg(ch, reqHeadSetCustomMode))
	}
	return append(msgs,
		new(Builder).Int(int32(s.X)).Int(int32(s.Y)).Msg(ch, reqHeadSetPosition),
		new(Builder).Int(int32(s.Rotation.Wayland())).Msg(ch, reqHeadSetTransform),
		new(Builder).Fixed(s.Scale).Msg(ch, reqHeadSetScale),
	), nil
}

// Watch delivers a value each time the compositor reports a new state of
// its outputs (a done event), until ctx ends or the connection does; then
// the channel is closed.
func (b *Backend) Watch(ctx context.Context) (<-chan struct{}, error) {
	c := b.c
	c.mu.Lock()
	seen := c.dones
	c.mu.Unlock()
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for {
			if err := c.wait(ctx, func() bool { return c.dones > seen }); err != nil {
				return
			}
			c.mu.Lock()
			seen = c.dones
			c.mu.Unlock()
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, nil
}
