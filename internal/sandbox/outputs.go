package sandbox

import (
	"encoding/hex"
	"fmt"
	"net"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"

	"github.com/perchdesk/perch/xrandr"
)

// DialX opens a connection to the display with its cookie, whatever this
// process's DISPLAY and XAUTHORITY say.
func (d *Display) DialX() (*xgb.Conn, error) {
	nc, err := net.Dial("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", d.Num))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.Name, err)
	}
	x, err := xgb.NewConnNetWithCookieHex(nc, hex.EncodeToString(d.Cookie))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.Name, err)
	}
	return x, nil
}

// Dial opens a RandR connection to the display (see DialX).
func (d *Display) Dial() (*xrandr.Conn, error) {
	x, err := d.DialX()
	if err != nil {
		return nil, err
	}
	c, err := xrandr.NewConn(x)
	if err != nil {
		x.Close()
		return nil, err
	}
	return c, nil
}

// ConnectOutput makes a dummy output report "connected", as plugging in a
// monitor would: the dummy driver does so once an output has been used.
// The output is left off and, as before, without modes of its own.
func (d *Display) ConnectOutput(name string) error {
	c, err := d.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Probe()
	if err != nil {
		return err
	}
	o, ok := st.Output(name)
	if !ok {
		return fmt.Errorf("no output %s", name)
	}
	if o.Connected {
		return nil
	}
	var small *xrandr.Mode
	for i := range st.Modes {
		m := &st.Modes[i]
		if small == nil || int(m.Width)*int(m.Height) < int(small.Width)*int(small.Height) {
			small = m
		}
	}
	if small == nil {
		return fmt.Errorf("the screen has no modes")
	}
	var crtc xrandr.CrtcID
	for _, id := range o.Crtcs {
		if cr, ok := st.Crtc(id); ok && cr.Mode == 0 {
			crtc = id
			break
		}
	}
	if crtc == 0 {
		return fmt.Errorf("no free CRTC for %s", name)
	}
	if err := c.AddOutputMode(o.ID, small.ID); err != nil {
		return fmt.Errorf("add mode %s: %w", small.Name, err)
	}
	if err := c.SetCrtc(crtc, 0, 0, small.ID, xrandr.RotateNormal, []xrandr.OutputID{o.ID}); err != nil {
		return fmt.Errorf("enable %s: %w", name, err)
	}
	if err := c.SetCrtc(crtc, 0, 0, 0, xrandr.RotateNormal, nil); err != nil {
		return fmt.Errorf("disable %s: %w", name, err)
	}
	if err := randr.DeleteOutputModeChecked(c.X(), randr.Output(o.ID), randr.Mode(small.ID)).Check(); err != nil {
		return fmt.Errorf("remove mode %s: %w", small.Name, err)
	}
	// The server notices the new connection state when it probes.
	if st, err = c.Probe(); err != nil {
		return err
	}
	if o, _ := st.Output(name); !o.Connected {
		return fmt.Errorf("output %s still reports %s", name, o.Connection)
	}
	return nil
}
