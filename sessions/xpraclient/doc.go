// Package xpraclient runs xpra's client for perch: it finds a display's
// socket on the server, gives a local client a private socket whose every
// connection is a fresh channel to that socket, starts and stops the
// client (Proc) with the options its version takes, and reads what it
// says (attached, why it ended); remote mode gets its command line.
package xpraclient
