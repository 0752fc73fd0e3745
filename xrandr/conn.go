package xrandr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
)

var quietOnce sync.Once

// quietXGB silences xgb's default logger, which writes to stderr.
func quietXGB() {
	quietOnce.Do(func() { xgb.Logger = log.New(io.Discard, "", 0) })
}

// Conn is a RandR connection to one X screen. It implements Server. It is
// not safe for concurrent use: one goroutine owns it.
type Conn struct {
	x       *xgb.Conn
	root    xproto.Window
	display string
	cfgTime xproto.Timestamp
	mmW     int
	mmH     int
	edid    xproto.Atom
	// Requests counts the requests that change the configuration, for
	// tests and benchmarks (an unchanged apply sends none).
	Requests int
}

// Dial connects to an X display ("" means $DISPLAY) and checks that it has
// RandR 1.2 or later.
func Dial(display string) (*Conn, error) {
	quietXGB()
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		if display == "" {
			display = "$DISPLAY"
		}
		return nil, fmt.Errorf("connect to X display %s: %w", display, err)
	}
	c, err := NewConn(x)
	if err != nil {
		x.Close()
		return nil, err
	}
	c.display = display
	return c, nil
}

// NewConn wraps an existing xgb connection.
func NewConn(x *xgb.Conn) (*Conn, error) {
	quietXGB()
	if err := randr.Init(x); err != nil {
		return nil, fmt.Errorf("the X server has no RandR extension: %w", err)
	}
	v, err := randr.QueryVersion(x, 1, 5).Reply()
	if err != nil {
		return nil, fmt.Errorf("query the RandR version: %w", err)
	}
	if v.MajorVersion < 1 || v.MajorVersion == 1 && v.MinorVersion < 2 {
		return nil, fmt.Errorf("the X server has RandR %d.%d; perch needs 1.2 or later", v.MajorVersion, v.MinorVersion)
	}
	scr := xproto.Setup(x).DefaultScreen(x)
	c := &Conn{x: x, root: scr.Root, mmW: int(scr.WidthInMillimeters), mmH: int(scr.HeightInMillimeters)}
	// Screen size changes tell us the current millimetres without probing.
	if err := randr.SelectInputChecked(x, c.root, randr.NotifyMaskScreenChange).Check(); err != nil {
		return nil, fmt.Errorf("select RandR screen events: %w", err)
	}
	atom, err := xproto.InternAtom(x, true, uint16(len("EDID")), "EDID").Reply()
	if err == nil {
		c.edid = atom.Atom
	}
	return c, nil
}

// Close closes the X connection.
func (c *Conn) Close() { c.x.Close() }

// X returns the underlying xgb connection.
func (c *Conn) X() *xgb.Conn { return c.x }

// drainEvents folds pending screen-change events into the known size.
func (c *Conn) drainEvents() {
	for {
		ev, err := c.x.PollForEvent()
		if ev == nil && err == nil {
			return
		}
		if sc, ok := ev.(randr.ScreenChangeNotifyEvent); ok {
			c.mmW, c.mmH = int(sc.Mwidth), int(sc.Mheight)
		}
	}
}

// State reads the screen's current configuration as the server last knew
// it, without probing the hardware: cheap, for use after perch's own
// changes.
func (c *Conn) State() (*State, error) { return c.read(false) }

// Probe asks the server to probe its outputs (as xrandr does; on real
// hardware this reads every monitor's EDID) and reads the configuration:
// use it when monitors may have come or gone.
func (c *Conn) Probe() (*State, error) { return c.read(true) }

// resources is the part of the two screen-resources replies we use.
type resources struct {
	Timestamp, ConfigTimestamp xproto.Timestamp
	Crtcs                      []randr.Crtc
	Outputs                    []randr.Output
	Modes                      []randr.ModeInfo
	Names                      []byte
}

func (c *Conn) resources(probe bool) (*resources, error) {
	if probe {
		r, err := randr.GetScreenResources(c.x, c.root).Reply()
		if err != nil {
			return nil, err
		}
		return &resources{r.Timestamp, r.ConfigTimestamp, r.Crtcs, r.Outputs, r.Modes, r.Names}, nil
	}
	r, err := randr.GetScreenResourcesCurrent(c.x, c.root).Reply()
	if err != nil {
		return nil, err
	}
	return &resources{r.Timestamp, r.ConfigTimestamp, r.Crtcs, r.Outputs, r.Modes, r.Names}, nil
}

func (c *Conn) read(probe bool) (*State, error) {
	x := c.x
	// Requests go out together; replies are read in order.
	rngC := randr.GetScreenSizeRange(x, c.root)
	geoC := xproto.GetGeometry(x, xproto.Drawable(c.root))
	primC := randr.GetOutputPrimary(x, c.root)
	res, err := c.resources(probe)
	if err != nil {
		return nil, fmt.Errorf("read the screen resources: %w", err)
	}
	rng, err := rngC.Reply()
	if err != nil {
		return nil, fmt.Errorf("read the screen size range: %w", err)
	}
	geo, err := geoC.Reply()
	if err != nil {
		return nil, fmt.Errorf("read the root window size: %w", err)
	}
	prim, err := primC.Reply()
	if err != nil {
		return nil, fmt.Errorf("read the primary output: %w", err)
	}
	c.drainEvents()
	c.cfgTime = res.ConfigTimestamp
	st := &State{
		MinWidth: int(rng.MinWidth), MinHeight: int(rng.MinHeight),
		MaxWidth: int(rng.MaxWidth), MaxHeight: int(rng.MaxHeight),
		Width: int(geo.Width), Height: int(geo.Height), MmWidth: c.mmW, MmHeight: c.mmH,
		Timestamp: uint32(res.Timestamp), ConfigTimestamp: uint32(res.ConfigTimestamp),
		Primary: OutputID(prim.Output),
	}
	if st.Modes, err = modesOf(res); err != nil {
		return nil, err
	}
	crtcCookies := make([]randr.GetCrtcInfoCookie, len(res.Crtcs))
	for i, id := range res.Crtcs {
		crtcCookies[i] = randr.GetCrtcInfo(x, id, res.ConfigTimestamp)
	}
	outCookies := make([]randr.GetOutputInfoCookie, len(res.Outputs))
	for i, id := range res.Outputs {
		outCookies[i] = randr.GetOutputInfo(x, id, res.ConfigTimestamp)
	}
	for i, id := range res.Crtcs {
		ci, err := crtcCookies[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("read CRTC 0x%x: %w", uint32(id), err)
		}
		st.Crtcs = append(st.Crtcs, crtcOf(id, ci))
	}
	if st.Outputs, err = c.outputs(res, outCookies); err != nil {
		return nil, err
	}
	return st, nil
}

// modesOf reads the modes of the screen resources, names included.
func modesOf(res *resources) ([]Mode, error) {
	var modes []Mode
	names := res.Names
	for _, mi := range res.Modes {
		n := int(mi.NameLen)
		if n > len(names) {
			return nil, fmt.Errorf("read the screen resources: mode names are truncated")
		}
		modes = append(modes, Mode{
			ID: ModeID(mi.Id), Name: string(names[:n]), Width: mi.Width, Height: mi.Height,
			DotClock: mi.DotClock, HSyncStart: mi.HsyncStart, HSyncEnd: mi.HsyncEnd, HTotal: mi.Htotal,
			HSkew: mi.Hskew, VSyncStart: mi.VsyncStart, VSyncEnd: mi.VsyncEnd, VTotal: mi.Vtotal,
			Flags: mi.ModeFlags,
		})
		names = names[n:]
	}
	return modes, nil
}

func crtcOf(id randr.Crtc, ci *randr.GetCrtcInfoReply) Crtc {
	cr := Crtc{
		ID: CrtcID(id), X: int(ci.X), Y: int(ci.Y), Width: int(ci.Width), Height: int(ci.Height),
		Mode: ModeID(ci.Mode), Rotation: Rotation(ci.Rotation), Rotations: Rotation(ci.Rotations),
	}
	for _, o := range ci.Outputs {
		cr.Outputs = append(cr.Outputs, OutputID(o))
	}
	for _, o := range ci.Possible {
		cr.Possible = append(cr.Possible, OutputID(o))
	}
	return cr
}

// outputs reads the outputs' replies and their EDIDs (every first chunk
// requested at once, one round trip in all).
func (c *Conn) outputs(res *resources, outCookies []randr.GetOutputInfoCookie) ([]Output, error) {
	var edidCookies []randr.GetOutputPropertyCookie
	if c.edid != 0 {
		for _, id := range res.Outputs {
			edidCookies = append(edidCookies, randr.GetOutputProperty(c.x, id, c.edid, xproto.AtomInteger, 0, 256, false, false))
		}
	}
	var outs []Output
	for i, id := range res.Outputs {
		oi, err := outCookies[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("read output 0x%x: %w", uint32(id), err)
		}
		o := Output{
			ID: OutputID(id), Name: string(oi.Name), Connected: oi.Connection == randr.ConnectionConnected,
			Connection: connectionName(oi.Connection), MmWidth: int(oi.MmWidth), MmHeight: int(oi.MmHeight),
			Crtc: CrtcID(oi.Crtc), Preferred: int(oi.NumPreferred),
		}
		for _, cr := range oi.Crtcs {
			o.Crtcs = append(o.Crtcs, CrtcID(cr))
		}
		for _, cl := range oi.Clones {
			o.Clones = append(o.Clones, OutputID(cl))
		}
		for _, m := range oi.Modes {
			o.Modes = append(o.Modes, ModeID(m))
		}
		var edid []byte
		if edidCookies != nil {
			edid, err = c.readEDID(id, edidCookies[i])
		}
		if err != nil {
			return nil, fmt.Errorf("read the EDID of output %s: %w", o.Name, err)
		}
		o.Fingerprint = Fingerprint(edid)
		outs = append(outs, o)
	}
	return outs, nil
}

func connectionName(c byte) string {
	switch c {
	case randr.ConnectionConnected:
		return "connected"
	case randr.ConnectionDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// readEDID returns the output's EDID property (nil when it has none),
// given the cookie of its first 1 KiB.
func (c *Conn) readEDID(o randr.Output, first randr.GetOutputPropertyCookie) ([]byte, error) {
	var data []byte
	cookie := first
	for off := uint32(0); ; {
		r, err := cookie.Reply()
		if err != nil {
			return nil, err
		}
		if r.Type == xproto.AtomNone || r.Format != 8 {
			return nil, nil
		}
		data = append(data, r.Data...)
		if r.BytesAfter == 0 || len(r.Data) == 0 {
			return data, nil
		}
		off += uint32(len(r.Data)) / 4
		cookie = randr.GetOutputProperty(c.x, o, c.edid, xproto.AtomInteger, off, 256, false, false)
	}
}

// Fingerprint is a short stable hash of an EDID ("" for none): the first 8
// bytes of its SHA-256, in hex. Paste it into a profile's match list.
func Fingerprint(edid []byte) string {
	if len(edid) == 0 {
		return ""
	}
	sum := sha256.Sum256(edid)
	return hex.EncodeToString(sum[:8])
}

// CreateMode implements Server.
func (c *Conn) CreateMode(m Mode) (ModeID, error) {
	c.Requests++
	mi := randr.ModeInfo{
		Width: m.Width, Height: m.Height, DotClock: m.DotClock,
		HsyncStart: m.HSyncStart, HsyncEnd: m.HSyncEnd, Htotal: m.HTotal, Hskew: m.HSkew,
		VsyncStart: m.VSyncStart, VsyncEnd: m.VSyncEnd, Vtotal: m.VTotal,
		NameLen: uint16(len(m.Name)), ModeFlags: m.Flags,
	}
	r, err := randr.CreateMode(c.x, c.root, mi, m.Name).Reply()
	if err != nil {
		return 0, err
	}
	return ModeID(r.Mode), nil
}

// AddOutputMode implements Server.
func (c *Conn) AddOutputMode(o OutputID, m ModeID) error {
	c.Requests++
	return randr.AddOutputModeChecked(c.x, randr.Output(o), randr.Mode(m)).Check()
}

// Grab implements Server.
func (c *Conn) Grab() error {
	return xproto.GrabServerChecked(c.x).Check()
}

// Ungrab implements Server.
func (c *Conn) Ungrab() error {
	return xproto.UngrabServerChecked(c.x).Check()
}

// SetScreenSize implements Server.
func (c *Conn) SetScreenSize(w, h, mmw, mmh int) error {
	c.Requests++
	err := randr.SetScreenSizeChecked(c.x, c.root, uint16(w), uint16(h), uint32(mmw), uint32(mmh)).Check()
	if err == nil {
		c.mmW, c.mmH = mmw, mmh
	}
	return err
}

// SetCrtc implements Server.
func (c *Conn) SetCrtc(id CrtcID, x, y int, mode ModeID, rot Rotation, outputs []OutputID) error {
	c.Requests++
	outs := make([]randr.Output, len(outputs))
	for i, o := range outputs {
		outs[i] = randr.Output(o)
	}
	r, err := randr.SetCrtcConfig(c.x, randr.Crtc(id), xproto.TimeCurrentTime, c.cfgTime,
		int16(x), int16(y), randr.Mode(mode), uint16(rot), outs).Reply()
	if err != nil {
		return err
	}
	switch r.Status {
	case randr.SetConfigSuccess:
		return nil
	case randr.SetConfigInvalidConfigTime:
		return fmt.Errorf("the screen changed meanwhile (stale configuration time); try again")
	case randr.SetConfigInvalidTime:
		return fmt.Errorf("the server refused the request time")
	default:
		return fmt.Errorf("the X server refused the CRTC configuration")
	}
}

// SetPrimary implements Server.
func (c *Conn) SetPrimary(o OutputID) error {
	c.Requests++
	return randr.SetOutputPrimaryChecked(c.x, c.root, randr.Output(o)).Check()
}
