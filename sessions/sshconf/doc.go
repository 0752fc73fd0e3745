// Package sshconf resolves a server through ssh_config files as OpenSSH's
// ssh(1) does (readconf.c): Host and Match blocks, Include, the first
// obtained value winning, %-tokens and ${VAR} where ssh expands them. It
// refuses only what perch cannot honour, and only when it applies to the
// server being resolved, naming the file and the line. OpenSSH's defaults
// and patterns without '?' come from kevinburke/ssh_config (lib.go).
package sshconf
