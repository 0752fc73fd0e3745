package agent

import (
	"slices"
	"testing"

	"github.com/perchdesk/perch/api"
)

// TestStatusOrigins: the status names the files read and the ones the
// running profile and its server came from.
func TestStatusOrigins(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	path := cfg.Path
	cfg.Files = []string{"/etc/xdg/perch/config.toml", path}
	cfg.Servers["quiet"].File = "/etc/xdg/perch/config.toml"
	h := start(t, cfg, newFakeDisplay("HDMI1", "HDMI2", "eDP1"), "desk")
	st := h.wait(t, "desk", func(s api.Status) bool { return s.Profile == "desk" && s.Link != nil })
	if !slices.Equal(st.ConfigFiles, cfg.Files) || st.ProfileFile != path || st.ServerFile != "/etc/xdg/perch/config.toml" {
		t.Errorf("files %v, profile from %q, server from %q; want %v, %s, the system file", st.ConfigFiles, st.ProfileFile, st.ServerFile, cfg.Files, path)
	}
}
