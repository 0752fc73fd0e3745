package config

import (
	"slices"
	"testing"
)

// TestClient: a profile's client comes from its own key, else its
// server's, else "remote"; xpra_args pass through as written.
func TestClient(t *testing.T) {
	text := `[server.near]
ssh = "h"
client = "local"
[server.far]
ssh = "g"
[profile.a]
server = "near"
displays = [10]
xpra_args = ["--encoding=rgb", "--bandwidth-limit=5M"]
[[profile.a.output]]
name = "X"
[profile.b]
server = "near"
client = "remote"
[[profile.b.output]]
name = "X"
[profile.c]
server = "far"
[[profile.c.output]]
name = "X"
[profile.d]
server = "far"
client = "local"
[[profile.d.output]]
name = "X"
[profile.e]
[[profile.e.output]]
name = "X"
`
	c, err := Parse("c.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": ClientLocal, "b": ClientRemote, "c": ClientRemote, "d": ClientLocal, "e": ClientRemote}
	for name, w := range want {
		if got := c.Profiles[name].Client; got != w {
			t.Errorf("profile %s: client %q, want %q", name, got, w)
		}
	}
	if got := c.Profiles["a"].XpraArgs; !slices.Equal(got, []string{"--encoding=rgb", "--bandwidth-limit=5M"}) {
		t.Errorf("xpra_args %q", got)
	}
	if c.Servers["near"].Client != ClientLocal || c.Servers["far"].Client != ClientRemote {
		t.Errorf("servers: %+v %+v", c.Servers["near"], c.Servers["far"])
	}
}
