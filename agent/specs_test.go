package agent

import (
	"testing"

	"github.com/perchdesk/perch/config"
	"github.com/perchdesk/perch/sessions"
)

// TestSpecsLocal: a profile with client = "local" gets local display
// sessions carrying its xpra_args and the location as their identity;
// commands stay remote; in remote mode the displays carry xpra_args too.
func TestSpecsLocal(t *testing.T) {
	p := &config.Profile{Displays: []int{10, 11}, Client: config.ClientLocal, XpraArgs: []string{"--encoding=rgb"},
		Sessions: []config.Session{{Name: "top", Command: "top"}}}
	specs := Specs(p, "sofa")
	if len(specs) != 3 {
		t.Fatalf("specs %+v", specs)
	}
	for i, d := range []int{10, 11} {
		if want := sessions.LocalDisplaySpec(d, p.XpraArgs, "sofa"); specs[i] != want {
			t.Errorf("spec %d: %+v, want %+v", i, specs[i], want)
		}
	}
	if specs[2].Local.On || specs[2].Command != "top" {
		t.Errorf("command session %+v", specs[2])
	}
	p.Client = config.ClientRemote
	if s := Specs(p, "sofa")[0]; s != sessions.DisplaySpec(10, "--encoding=rgb") || s.Command != "xpra attach :10 --encoding=rgb" {
		t.Errorf("remote: %+v", s)
	}
}
