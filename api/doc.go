// Package api holds the agent's wire types: the status the control socket
// serves and the front ends (perch status, the tray) show, with its typed
// states; it imports nothing of perch, so every other package may use it.
package api
