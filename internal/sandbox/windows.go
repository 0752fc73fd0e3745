package sandbox

import (
	"github.com/jezek/xgb/xproto"
)

// WindowNames lists the WM_NAME of the windows on the display: the root's
// children and their children (window managers reparent).
func (d *Display) WindowNames() ([]string, error) {
	c, err := d.Dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	x := c.X()
	root := xproto.Setup(x).DefaultScreen(x).Root
	var names []string
	var walk func(w xproto.Window, depth int) error
	walk = func(w xproto.Window, depth int) error {
		tree, err := xproto.QueryTree(x, w).Reply()
		if err != nil {
			return err
		}
		for _, ch := range tree.Children {
			p, err := xproto.GetProperty(x, false, ch, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
			if err == nil && len(p.Value) > 0 {
				names = append(names, string(p.Value))
			}
			if depth < 1 {
				if err := walk(ch, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return names, walk(root, 0)
}
