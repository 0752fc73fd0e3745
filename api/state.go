package api

// LinkState is where the link to the server is.
type LinkState string

// Link states.
const (
	LinkConnecting LinkState = "connecting"
	LinkUp         LinkState = "up"
	LinkDown       LinkState = "down"   // lost; reconnecting after a backoff
	LinkFailed     LinkState = "failed" // refused for a reason a retry cannot fix (host key, authentication)
	LinkStopped    LinkState = "stopped"
)

// SessionState is where a supervised remote command is, as the front ends
// show it.
type SessionState string

// Session states.
const (
	SessionStarting SessionState = "starting" // the remote command is starting (or waits for the link)
	SessionAttached SessionState = "attached" // xpra's handshake is done (a named command: its first X11 connection through perch)
	SessionBackoff  SessionState = "backoff"  // waiting before the restart
	SessionFailed   SessionState = "failed"   // cannot start (the link failed for good)
	// SessionElsewhere: another location (or another xpra client) took the
	// display; HeldBy says which.
	SessionElsewhere SessionState = "elsewhere"
	SessionStopped   SessionState = "stopped"
)

// Mode is how the agent chose its profile.
type Mode string

// Modes of profile choice.
const (
	ModeAuto   Mode = "auto"
	ModeManual Mode = "manual"
)

// AnotherClient is the HeldBy of a display that an xpra client other than
// perch's took (no location's claim names it).
const AnotherClient = "another client"
