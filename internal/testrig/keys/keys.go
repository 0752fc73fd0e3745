// Package keys presses keys on an X display through XTEST, as a person at
// it would, on one connection (no process per key), and reads how long
// the display has been idle (MIT-SCREEN-SAVER): the tests' input.
package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/screensaver"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
	"github.com/perchdesk/perch/internal/sandbox"
)

// shiftKeysym is XK_Shift_L.
const shiftKeysym = 0xffe1

// Keyboard is one connection to a display for pressing keys.
type Keyboard struct {
	x     *xgb.Conn
	root  xproto.Window
	shift xproto.Keycode
}

// Open connects to the display with its cookie (whatever this process's
// DISPLAY and XAUTHORITY say) and finds its Shift key.
func Open(d *sandbox.Display) (*Keyboard, error) {
	x, err := d.DialX()
	if err != nil {
		return nil, err
	}
	k := &Keyboard{x: x, root: xproto.Setup(x).DefaultScreen(x).Root}
	if err := k.init(); err != nil {
		x.Close()
		return nil, fmt.Errorf("display %s: %w", d.Name, err)
	}
	return k, nil
}

func (k *Keyboard) init() error {
	if err := xtest.Init(k.x); err != nil {
		return fmt.Errorf("XTEST: %w", err)
	}
	if err := screensaver.Init(k.x); err != nil {
		return fmt.Errorf("MIT-SCREEN-SAVER: %w", err)
	}
	setup := xproto.Setup(k.x)
	n := byte(setup.MaxKeycode - setup.MinKeycode + 1)
	m, err := xproto.GetKeyboardMapping(k.x, setup.MinKeycode, n).Reply()
	if err != nil {
		return fmt.Errorf("keyboard mapping: %w", err)
	}
	per := int(m.KeysymsPerKeycode)
	for i := range int(n) {
		for j := range per {
			if m.Keysyms[i*per+j] == shiftKeysym {
				k.shift = setup.MinKeycode + xproto.Keycode(i)
				return nil
			}
		}
	}
	return fmt.Errorf("no Shift key in the keyboard mapping")
}

// Close closes the connection.
func (k *Keyboard) Close() { k.x.Close() }

// Press presses and releases Shift; it returns once the X server has
// taken both (a checked request answers after the server processed it).
func (k *Keyboard) Press() error {
	for _, typ := range []byte{xproto.KeyPress, xproto.KeyRelease} {
		if err := xtest.FakeInputChecked(k.x, typ, byte(k.shift), 0, k.root, 0, 0, 0).Check(); err != nil {
			return fmt.Errorf("XTEST key: %w", err)
		}
	}
	return nil
}

// Idle is how long the display has been without input.
func (k *Keyboard) Idle() (time.Duration, error) {
	r, err := screensaver.QueryInfo(k.x, xproto.Drawable(k.root)).Reply()
	if err != nil {
		return 0, fmt.Errorf("idle time: %w", err)
	}
	return time.Duration(r.MsSinceUserInput) * time.Millisecond, nil
}

// WaitIdle waits until the display has been idle for d (or ctx ends): the
// server's own count, not a sleep that a loaded machine may stretch or a
// stray input may spoil.
func (k *Keyboard) WaitIdle(ctx context.Context, d time.Duration) error {
	for {
		idle, err := k.Idle()
		if err != nil {
			return err
		}
		if idle >= d {
			return nil
		}
		t := time.NewTimer(d - idle)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("idle %s, waiting for %s: %w", idle, d, ctx.Err())
		case <-t.C:
		}
	}
}
