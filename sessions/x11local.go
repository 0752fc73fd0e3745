package sessions

import "github.com/perchdesk/perch/sessions/x11fwd"

// X11Local is the local X display forwarded connections reach, with its
// real cookie (see package x11fwd).
type X11Local = x11fwd.Local

// LocalX11 finds the local display and its real cookie: DISPLAY as given
// ("" means $DISPLAY), the cookie from $XAUTHORITY or ~/.Xauthority.
func LocalX11(display string) (*X11Local, error) { return x11fwd.FindLocal(display) }
