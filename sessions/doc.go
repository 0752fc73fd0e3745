// Package sessions connects perch to the server: one SSH connection
// (golang.org/x/crypto/ssh, resolved through ssh_config, host keys always
// verified) with X11 forwarding as OpenSSH's `ssh -Y` does it, and over it
// the supervised remote commands (`xpra attach :N` and named commands) and
// local port forwards.
//
// A Link owns the connection: it dials, sends keepalives each with its own
// deadline, and reconnects with backoff when the link dies. Each session
// has one supervisor goroutine that restarts its command with jittered
// exponential backoff; a session is "attached" once its command opened its
// first X11 connection through perch, recognised by the fake cookie sent
// in that session's x11-req. Status returns a copy of the whole state for
// the front ends; Changes signals when it moves.
//
// Display sessions share their displays with other locations through
// claims on the server (see Claims): a session whose display another live
// location took is "elsewhere", not failed, until Take brings it back.
package sessions
