package agent

import (
	"context"
	"time"

	"github.com/perchdesk/perch/xrandr"
)

// XDisplay is the Display of a real X server, over one RandR connection
// used only by the agent's owner goroutine; events come on a second one.
type XDisplay struct {
	name string
	conn *xrandr.Conn
}

// NewXDisplay connects to display ("" means $DISPLAY).
func NewXDisplay(name string) (*XDisplay, error) {
	c, err := xrandr.Dial(name)
	if err != nil {
		return nil, err
	}
	return &XDisplay{name: name, conn: c}, nil
}

// Close closes the connection.
func (d *XDisplay) Close() { d.conn.Close() }

// Probe implements Display.
func (d *XDisplay) Probe() (*xrandr.State, error) { return d.conn.Probe() }

// Current implements Display.
func (d *XDisplay) Current() (*xrandr.State, error) { return d.conn.State() }

// Apply implements Display.
func (d *XDisplay) Apply(l xrandr.Layout) (*xrandr.Plan, error) {
	st, err := d.conn.State()
	if err != nil {
		return nil, err
	}
	p, err := xrandr.MakePlan(st, l)
	if err != nil {
		return nil, err
	}
	return p, xrandr.Apply(d.conn, p)
}

// Watch implements Display.
func (d *XDisplay) Watch(ctx context.Context) (<-chan xrandr.Event, error) {
	return xrandr.Watch(ctx, d.name)
}

// WatchActivity implements ActivityWatcher.
func (d *XDisplay) WatchActivity(ctx context.Context, after time.Duration) (<-chan time.Time, error) {
	return xrandr.WatchActivity(ctx, d.name, after)
}
