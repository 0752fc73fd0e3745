package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/perchdesk/perch/api"
)

// TestStatusBandwidthLimit: `perch status` says when local xpra clients
// run with the limit perch set, and says nothing of it otherwise.
func TestStatusBandwidthLimit(t *testing.T) {
	link := &api.LinkStatus{Server: "tower", State: api.LinkUp}
	st := api.Status{Profile: "sofa", Link: link}
	var b strings.Builder
	printStatus(&b, st)
	if strings.Contains(b.String(), "limited") {
		t.Errorf("no limit, yet:\n%s", b.String())
	}
	link.XpraLimit, link.Carried = 3_900_000, 4_900_000
	b.Reset()
	printStatus(&b, st)
	if want := "local xpra clients limited to 3.9 Mbit/s: the link was full at 4.9 Mbit/s"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
}

// TestStatusXpraVersions: `perch status` names the xpra versions on either
// end once known, and `--json` carries them.
func TestStatusXpraVersions(t *testing.T) {
	link := &api.LinkStatus{Server: "tower", State: api.LinkUp}
	st := api.Status{Profile: "sofa", Link: link}
	var b strings.Builder
	printStatus(&b, st)
	if strings.Contains(b.String(), "xpra ") {
		t.Errorf("no versions known, yet:\n%s", b.String())
	}
	link.XpraServer, link.XpraLocal = "6.5.3", "3.1.3"
	b.Reset()
	printStatus(&b, st)
	if want := "xpra      6.5.3 on the server, 3.1.3 here\n"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
	js, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(js), `"xpra_server":"6.5.3","xpra_local":"3.1.3"`) {
		t.Errorf("json %s, %v", js, err)
	}
}
