// Package sshconf resolves a server through ssh_config files as OpenSSH's
// ssh(1) does (readconf.c, ssh.c; the 9.2 of Debian 12, with Tag and Match
// tagged of 9.4): Host and Match blocks, Include, the first obtained value
// winning, %-tokens and ${VAR} where ssh expands them, addresses written as
// getnameinfo writes them, and CanonicalizeHostname with its second pass
// (the name lookups wait for a context: Options.Context, or Target.Final
// when the connection is made). It refuses only what perch cannot honour,
// and only when it applies to the server being resolved, naming the file
// and the line. OpenSSH's defaults and patterns without '?' come from
// kevinburke/ssh_config (lib.go).
package sshconf
