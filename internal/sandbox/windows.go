package sandbox

import (
	"fmt"
	"image"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Window is a named window on the display and where it is on the screen.
type Window struct {
	Name string
	Rect image.Rectangle // in root window coordinates
}

// Windows lists the windows with a WM_NAME on the display: the root's
// children and their children (window managers reparent).
func (d *Display) Windows() ([]Window, error) {
	c, err := d.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	x := c.X()
	root := xproto.Setup(x).DefaultScreen(x).Root
	var wins []Window
	var walk func(w xproto.Window, depth int) error
	walk = func(w xproto.Window, depth int) error {
		tree, err := xproto.QueryTree(x, w).Reply()
		if err != nil {
			return fmt.Errorf("list the windows of %s: %w", d.Name, err)
		}
		for _, ch := range tree.Children {
			p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
			if err == nil && len(p.Value) > 0 {
				wins = append(wins, Window{Name: string(p.Value), Rect: rect(x, root, ch)})
			}
			if depth < 1 {
				if err := walk(ch, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return wins, walk(root, 0)
}

// rect is where w is on the screen; empty if it went away meanwhile.
func rect(x *xgb.Conn, root, w xproto.Window) image.Rectangle {
	g, err := xproto.GetGeometry(x, xproto.Drawable(w)).Reply()
	if err != nil {
		return image.Rectangle{}
	}
	at, err := xproto.TranslateCoordinates(x, w, root, 0, 0).Reply()
	if err != nil {
		return image.Rectangle{}
	}
	return image.Rect(int(at.DstX), int(at.DstY), int(at.DstX)+int(g.Width), int(at.DstY)+int(g.Height))
}

// WindowNames lists the WM_NAME of the windows Windows lists.
func (d *Display) WindowNames() ([]string, error) {
	wins, err := d.Windows()
	names := make([]string, 0, len(wins))
	for _, w := range wins {
		names = append(names, w.Name)
	}
	return names, err
}
