// Package memssh is an SSH server in this process over in-memory
// connections, for the link's tests in virtual time (testing/synctest):
// a real x/crypto/ssh peer with the latency, freezes and refusals a
// network and a server can cause, and no sshd.
package memssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server answers SSH connections made with Dial: any user with its one
// client key (WriteFiles), until RefuseAuth; keepalives answered as
// OpenSSH's sshd does (failure); channels refused.
type Server struct {
	Net  Net
	key  ssh.Signer
	user ed25519.PrivateKey // the one client key accepted
	conf *ssh.ServerConfig

	refuse   atomic.Bool
	dials    atomic.Int64
	accepted atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// NewServer makes a server with a fresh host key.
func NewServer() (*Server, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	_, user, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &Server{key: key, user: user}
	s.conf = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			want, err := ssh.NewPublicKey(user.Public())
			if err != nil || s.refuse.Load() || !bytes.Equal(k.Marshal(), want.Marshal()) {
				return nil, errors.New("refused (memssh)")
			}
			return nil, nil
		},
	}
	s.conf.AddHostKey(key)
	return s, nil
}

// RefuseAuth makes the server refuse every authentication from now on.
func (s *Server) RefuseAuth(on bool) { s.refuse.Store(on) }

// WriteFiles writes into dir what a client needs: a known_hosts file
// naming the server as hostport ("[mem]:22") and the client key.
func (s *Server) WriteFiles(dir, hostport string) (knownHosts, identity string, err error) {
	knownHosts, identity = filepath.Join(dir, "known_hosts"), filepath.Join(dir, "id_ed25519")
	line := knownhosts.Line([]string{hostport}, s.key.PublicKey()) + "\n"
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(s.user, "")
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(identity, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", "", err
	}
	return knownHosts, identity, nil
}

// Dial is a NetDialer: a new connection to the server.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.dials.Add(1)
	c, sc := s.Net.Pipe()
	s.mu.Lock()
	s.conns = append(s.conns, sc)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.serve(sc)
	}()
	return c, nil
}

// Dials counts Dial's calls; Accepted the connections authenticated.
func (s *Server) Dials() int64    { return s.dials.Load() }
func (s *Server) Accepted() int64 { return s.accepted.Load() }

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.conf)
	if err != nil {
		return
	}
	s.accepted.Add(1)
	defer sc.Close()
	go func() {
		for ch := range chans {
			_ = ch.Reject(ssh.Prohibited, "memssh opens no channels")
		}
	}()
	for r := range reqs {
		if r.WantReply {
			_ = r.Reply(false, nil) // as sshd answers keepalive@openssh.com
		}
	}
}

// Close ends every connection and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	cs := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	s.Net.Thaw()
	s.wg.Wait()
}
