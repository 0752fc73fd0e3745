// Package sessions keeps one SSH connection to the server (a Link) and
// supervises the remote commands that run over it: `xpra attach :N` and
// named commands, with X11 forwarding as OpenSSH's `ssh -Y` does it.
//
// A Link owns the connection: it dials (sshdial), watches it (alive) and
// reconnects (backoff) when it dies. Each session has one supervisor
// goroutine that runs its command, or its local xpra client
// (xpraclient), and restarts it; it is "attached" once xpra says so, or
// a named command opened its first X11 connection (x11fwd). The link's
// and the sessions' status live under the link's mutex, so that Status
// is one consistent copy (api types); Changes signals when it moves. The
// claims' flags (claims.Session) and the bandwidth limit (bwlimit) keep
// their own.
//
// Around it, one package per reason to change: claims (which location
// holds which display), bwlimit (the local clients' limit on a full
// link), forward (local TCP ports through the link), remotecmd (a
// command's shape and end) and the ssh ones (sshconf, sshdial, hostkey).
package sessions
