// Package sshdial connects to an SSH server as OpenSSH's ssh does: TCP
// directly, through ProxyJump hosts or a ProxyCommand, the key exchange
// with the host key checked, and public key authentication with ssh-agent
// and identity files.
package sshdial
