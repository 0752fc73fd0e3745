// Package server turns a configured server (config.Server) into where and
// how perch connects to it: its ssh target, resolved through its
// ssh_config (or ssh's default files), and the host key policy.
package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions/sshconf"
	"github.com/perchdesk/perch/sessions/sshdial"
)

// Resolve resolves the server named name: its ssh target through its
// ssh_config (or the default files) and the known_hosts policy to use.
// A target ssh_config cannot resolve is bad input (config.ErrInvalid).
func Resolve(name string, srv *config.Server) (*sshconf.Target, sshdial.Options, error) {
	var files []string
	if srv.SSHConfig != "" {
		files = []string{expandHome(srv.SSHConfig)}
	}
	t, err := sshconf.Resolve(srv.SSH, files)
	if err != nil {
		return nil, sshdial.Options{}, fmt.Errorf("server %s: %w: %w", name, err, config.ErrInvalid)
	}
	// perch's own known_hosts setting, when given, wins over ssh_config's
	// StrictHostKeyChecking, for the server and its jump hosts; when not
	// given, each host's own ssh_config decides (hostkey.Policy).
	return t, sshdial.Options{Policy: srv.KnownHosts}, nil
}

// expandHome expands a leading ~ to the home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, p[1:])
	}
	return p
}
