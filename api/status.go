package api

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Status is the whole agent as the front ends show it. It is a value:
// copied out, never shared.
type Status struct {
	PID       int             `json:"pid"`
	Config    string          `json:"config"`
	Location  string          `json:"location"`
	Profile   string          `json:"profile"`
	Mode      Mode            `json:"mode"`
	Since     time.Time       `json:"since"`
	LastError string          `json:"last_error,omitempty"`
	Link      *LinkStatus     `json:"link"`
	Sessions  []SessionStatus `json:"sessions"`
	Forwards  []ForwardStatus `json:"forwards"`
	Screen    Screen          `json:"screen"`
	Profiles  []string        `json:"profiles"`
	// Disconnected is true when the user dropped the link (Disconnect);
	// Reconnect or a switch connects again.
	Disconnected bool `json:"disconnected,omitempty"`
	// LayoutKept: the profile lists no outputs, so the layout was left as
	// it is (Screen is what was on screen before, if known).
	LayoutKept bool `json:"layout_kept,omitempty"`
	// ConfigFiles are the configuration files read, system files first;
	// ProfileFile and ServerFile the ones the profile and its server
	// came from.
	ConfigFiles []string `json:"config_files,omitempty"`
	ProfileFile string   `json:"profile_file,omitempty"`
	ServerFile  string   `json:"server_file,omitempty"`
}

// Screen is the local layout: the screen size and the outputs that are on.
type Screen struct {
	Width   int          `json:"width"`
	Height  int          `json:"height"`
	Outputs []OutputView `json:"outputs"`
}

// OutputView is one output as shown to a user: `perch outputs` and the
// status model.
type OutputView struct {
	Name        string     `json:"name"`
	Connection  string     `json:"connection"`
	On          bool       `json:"on"`
	Primary     bool       `json:"primary"`
	Mode        string     `json:"mode,omitempty"`
	Refresh     float64    `json:"refresh,omitempty"`
	X           int        `json:"x"`
	Y           int        `json:"y"`
	Width       int        `json:"width,omitempty"`
	Height      int        `json:"height,omitempty"`
	Rotation    string     `json:"rotation"`
	Rotations   []string   `json:"rotations,omitempty"`
	MmWidth     int        `json:"mm_width,omitempty"`
	MmHeight    int        `json:"mm_height,omitempty"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	Modes       []ModeView `json:"modes,omitempty"`
}

// ModeView is one advertised mode of an output.
type ModeView struct {
	Name      string  `json:"name"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Refresh   float64 `json:"refresh"`
	Preferred bool    `json:"preferred,omitempty"`
	Current   bool    `json:"current,omitempty"`
}

// Duration marshals as milliseconds in JSON.
type Duration time.Duration

// MarshalJSON writes the duration in milliseconds, with a fraction.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(d).Microseconds()) / 1000)
}

// UnmarshalJSON reads milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// LinkTimings are the phases of the last connection, in milliseconds.
type LinkTimings struct {
	TCP       Duration `json:"tcp_ms"`
	Handshake Duration `json:"handshake_ms"`
	Auth      Duration `json:"auth_ms"`
	Total     Duration `json:"connect_ms"`
	X11Ready  Duration `json:"x11_ready_ms"` // first x11-req answered, since the connection was up
}

// LinkStatus is the state of the connection to the server.
type LinkStatus struct {
	Server      string    `json:"server"`
	Address     string    `json:"address"`
	State       LinkState `json:"state"`
	Since       time.Time `json:"since"`
	RTT         Duration  `json:"rtt_ms"`
	LastError   string    `json:"last_error,omitempty"`
	Reconnects  int       `json:"reconnects"`
	X11Rejected int64     `json:"x11_rejected"` // connections refused for a wrong cookie
	// XpraLimit is the local xpra clients' --bandwidth-limit in bits/s,
	// set when the link was found full; Carried is what the link carried
	// then. 0: none.
	XpraLimit int64 `json:"xpra_bandwidth_limit_bps,omitempty"`
	Carried   int64 `json:"link_carried_bps,omitempty"`
	// XpraServer is what `xpra --version` says on the server (the xpra
	// of its displays and of remote mode's `xpra attach`), XpraLocal the
	// local client's (local mode); "" until learnt.
	XpraServer string      `json:"xpra_server,omitempty"`
	XpraLocal  string      `json:"xpra_local,omitempty"`
	Timings    LinkTimings `json:"timings"`
}

// XpraVersions words the xpra versions learnt on either end: "6.5.3 on
// the server, 3.1.3 here", or "" when none is known yet.
func (l LinkStatus) XpraVersions() string {
	var parts []string
	if l.XpraServer != "" {
		parts = append(parts, l.XpraServer+" on the server")
	}
	if l.XpraLocal != "" {
		parts = append(parts, l.XpraLocal+" here")
	}
	return strings.Join(parts, ", ")
}

// SessionTimings are a session's phases, in milliseconds.
type SessionTimings struct {
	Start    Duration `json:"start_ms"`     // session channel, x11-req and exec
	FirstX11 Duration `json:"first_x11_ms"` // from exec to attached
}

// SessionStatus is one supervised remote command.
type SessionStatus struct {
	Name      string         `json:"name"`
	Command   string         `json:"command"`
	State     SessionState   `json:"state"`
	Since     time.Time      `json:"since"`
	Restarts  int            `json:"restarts"`
	HeldBy    string         `json:"held_by,omitempty"` // the location holding an elsewhere session, or AnotherClient
	LastError string         `json:"last_error,omitempty"`
	Timings   SessionTimings `json:"timings"`
}

// Where words where an elsewhere session is: "at sofa", or "held by
// another client".
func (s SessionStatus) Where() string {
	if s.HeldBy == AnotherClient {
		return "held by " + AnotherClient
	}
	return "at " + s.HeldBy
}

// ForwardStatus is one local port forward.
type ForwardStatus struct {
	Listen    string `json:"listen"`
	To        string `json:"to"`
	Active    int    `json:"active"`
	Total     int    `json:"total"`
	LastError string `json:"last_error,omitempty"`
}

// UserError is a request the user must change (unknown profile, session):
// the control socket answers it as bad input.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// ErrStopped is returned by requests made after the agent stopped.
var ErrStopped = errors.New("the agent has stopped")
