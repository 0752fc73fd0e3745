// Package netwatch tells when the machine's network changes — an interface
// comes up, an address or a route appears — so that a link waiting out its
// backoff can try again at once instead of seconds later. On Linux it
// listens to the kernel's rtnetlink multicast groups (no polling); elsewhere
// Watch reports nothing.
package netwatch
