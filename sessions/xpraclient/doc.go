// Package xpraclient runs xpra's client for perch: it finds a display's
// socket on the server, gives a local client a private socket whose every
// connection is a fresh channel to that socket, builds the client's
// command line, and reads what the client says (attached, why it ended).
package xpraclient
