package sessions

import (
	"encoding/json"
	"strings"
	"time"
)

// Link states.
const (
	LinkConnecting = "connecting"
	LinkUp         = "up"
	LinkDown       = "down"   // lost; reconnecting after a backoff
	LinkFailed     = "failed" // refused for a reason a retry cannot fix (host key, authentication)
	LinkStopped    = "stopped"
)

// Session states, as the front ends show them.
const (
	StateStarting = "starting" // the remote command is starting (or waits for the link)
	StateAttached = "attached" // xpra's handshake is done (a named command: its first X11 connection through perch)
	StateBackoff  = "backoff"  // waiting before the restart
	StateFailed   = "failed"   // cannot start (the link failed for good)
	// StateElsewhere: another location took the display (see Claims).
	StateElsewhere = "elsewhere"
	StateStopped   = "stopped"
)

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
	State       string    `json:"state"`
	Since       time.Time `json:"since"`
	RTT         Duration  `json:"rtt_ms"`
	LastError   string    `json:"last_error,omitempty"`
	Reconnects  int       `json:"reconnects"`
	X11Rejected int64     `json:"x11_rejected"` // connections refused for a wrong cookie
	// XpraLimit is the local xpra clients' --bandwidth-limit in bits/s,
	// set when the link was found full (see bandwidth.go); Carried is
	// what the link carried then. 0: none.
	XpraLimit int64 `json:"xpra_bandwidth_limit_bps,omitempty"`
	// XpraServer is what `xpra --version` says on the server (the xpra
	// of its displays and of remote mode's `xpra attach`), XpraLocal the
	// local client's (local mode); "" until learnt.
	XpraServer string      `json:"xpra_server,omitempty"`
	XpraLocal  string      `json:"xpra_local,omitempty"`
	Carried    int64       `json:"link_carried_bps,omitempty"`
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
	State     string         `json:"state"`
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

// Status is a copy of a link's whole state.
type Status struct {
	Link     LinkStatus      `json:"link"`
	Sessions []SessionStatus `json:"sessions"`
	Forwards []ForwardStatus `json:"forwards"`
}
