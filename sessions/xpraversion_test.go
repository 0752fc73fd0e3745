package sessions

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
	"github.com/perchdesk/perch/internal/testrig/testbed"
	"github.com/perchdesk/perch/sessions/backoff"
)

// loggedTime is a time as xpra's log writes it.
var loggedTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`)

// TestLocalVersionRefused: the real local xpra client refuses a server of
// a version it does not talk to (testbed.OldXpra answers its hello as a
// 0.14.0 server would). The session backs off with xpra's own words,
// no attempt sooner than the backoff allows (no spin), and a good local
// display on the same link stays attached throughout.
func TestLocalVersionRefused(t *testing.T) {
	b := needBed(t)
	good := b.displays()[0]
	old, err := testbed.StartOldXpra(b.xpras[0].SocketDir, testbed.FreeDisplay(95), "0.14.0")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	l := b.newLink(t, localSpecs([]int{good, old.Display}, ""), func(o *Options) { o.X11 = nil })
	stop := run(t, l)
	// Five refusals: four backoff delays, the last one at least 3 s.
	const attempts = 5
	refusals := func() int {
		n := 0
		for _, v := range old.Visits() {
			if !v.End.IsZero() {
				n++
			}
		}
		return n
	}
	st := waitFor(t, l, 90*time.Second, "the good display attached, the old one refused 5 times", func(s Status) bool {
		return len(s.Sessions) == 2 && s.Sessions[0].State == api.SessionAttached &&
			s.Sessions[1].State == api.SessionBackoff && refusals() >= attempts
	})
	refused := st.Sessions[1]
	t.Logf("last error: %s", refused.LastError)
	for _, want := range []string{
		"the local xpra exited with status 5 (incompatible version)",
		"incompatible remote version '0.14.0': remote version [0, 14] is too old, sorry",
	} {
		if !strings.Contains(refused.LastError, want) {
			t.Errorf("last error %q does not say %q", refused.LastError, want)
		}
	}
	if loggedTime.MatchString(refused.LastError) {
		t.Errorf("last error %q carries xpra's log timestamps", refused.LastError)
	}

	// The client of attempt k+1 says hello no sooner than backoff delay k
	// after the client of attempt k hung up: the first retry is a random
	// point of [0, 2 × 0.5 s) (Backoff.Retry's spread: it may come at
	// once), then at least 0.75 × 0.5 s × 2^k (backoff.New's least
	// jitter).
	visits := old.Visits()
	for k := 0; k+1 < attempts; k++ {
		gap, least := visits[k+1].Hello.Sub(visits[k].End), time.Duration(0.75*float64(backoff.New().Base<<k))
		if k == 0 {
			least = 0
		}
		t.Logf("refusal %d to hello %d: %v (backoff at least %v)", k+1, k+2, gap.Round(time.Millisecond), least)
		if gap < least {
			t.Errorf("attempt %d said hello %v after attempt %d was refused; backoff allows no sooner than %v", k+2, gap, k+1, least)
		}
	}
	if refused.Restarts < attempts || refused.Restarts > len(visits) {
		t.Errorf("refused session restarted %d times for %d hellos", refused.Restarts, len(visits))
	}
	if g := l.Status().Sessions[0]; g.State != api.SessionAttached || g.Restarts != 0 {
		t.Errorf("good display beside the refused one: %+v", g)
	}
	stop()
}
