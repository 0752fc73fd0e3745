// Package sessions keeps one SSH connection to the server (a Link) and
// supervises the remote commands that run over it: `xpra attach :N` and
// named commands, with X11 forwarding as OpenSSH's `ssh -Y` does it.
//
// A Link owns the connection: it dials (sshdial, resolved by sshconf, host
// keys checked by hostkey), sends keepalives (one in flight at a time),
// and reconnects with backoff when the link dies. Each session has one
// supervisor goroutine that restarts its command with jittered exponential
// backoff; a session is "attached" once its command opened its first X11
// connection through perch (x11fwd). Status returns a copy of the whole
// state for the front ends (api types); Changes signals when it moves.
//
// Around the link, one package per reason to change: claims (which
// location holds which display), bwlimit (the local clients' bandwidth
// limit on a full link) and forward (local TCP ports through the link).
package sessions
