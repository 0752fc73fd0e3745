package sessions

import (
	"github.com/perchdesk/perch/sessions/hostkey"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// The seam between a link and the dialler: a link connects with Dial (or
// Options.dial in tests) to a Target resolved by sshconf.
type (
	// Target is a server resolved through ssh_config.
	Target = sshconf.Target
	// DialOptions tunes Dial.
	DialOptions = sshdial.Options
	// DialTimings are the phases of a connection.
	DialTimings = sshdial.Timings
	// HostKeyError is a host key perch refuses.
	HostKeyError = hostkey.HostKeyError
)

// Dial connects and authenticates to a target (sshdial.Dial).
var Dial = sshdial.Dial

// Resolve resolves "[user@]host[:port]" through ssh_config (sshconf.Resolve).
var Resolve = sshconf.Resolve
