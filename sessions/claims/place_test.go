package claims

import (
	"testing"
	"time"
)

// TestDecide is the claim state machine's table: a live claim of another
// agent keeps the display there (unless taken, and not younger than
// MinAge under follow); an expired lease, or the agent's own claim, frees
// it; other xpra clients hold it only when no location does and the
// session does not take it.
func TestDecide(t *testing.T) {
	const now = 1000
	snap := func(claims map[int]Claim, xclients map[int]int) *Snapshot {
		return &Snapshot{Now: now, Claims: claims, XClients: xclients, Agents: map[string]Lease{
			"me":    {Renewed: now - 1, Lease: 15, Location: "desk"},
			"sofa":  {Renewed: now - 1, Lease: 15, Location: "sofa"},
			"gone":  {Renewed: now - 100, Lease: 15, Location: "attic"},
			"edge":  {Renewed: now - 15, Lease: 15, Location: "hall"},
			"later": {Renewed: now - 16, Lease: 15, Location: "porch"},
		}}
	}
	sofaAt := func(at int64) map[int]Claim { return map[int]Claim{10: {Agent: "sofa", At: at, Location: "sofa"}} }
	for _, tc := range []struct {
		name  string
		snap  *Snapshot
		facts Facts
		want  Place
	}{
		{"no claim", snap(nil, nil), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"my own claim", snap(map[int]Claim{10: {Agent: "me", At: now - 5, Location: "desk"}}, nil), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"another location's", snap(sofaAt(now-5), nil), Facts{Display: 10, Agent: "me"}, Place{AtLocation, "sofa"}},
		{"another display's claim", snap(sofaAt(now-5), nil), Facts{Display: 11, Agent: "me"}, Place{Where: Free}},
		{"taken back", snap(sofaAt(now-5), nil), Facts{Display: 10, Agent: "me", Take: true}, Place{Where: Free}},
		{"follow: too young to take", snap(sofaAt(now-4), nil), Facts{Display: 10, Agent: "me", Take: true, MinAge: 5 * time.Second}, Place{AtLocation, "sofa"}},
		{"follow: old enough", snap(sofaAt(now-5), nil), Facts{Display: 10, Agent: "me", Take: true, MinAge: 5 * time.Second}, Place{Where: Free}},
		{"MinAge without Take", snap(sofaAt(now-100), nil), Facts{Display: 10, Agent: "me", MinAge: 5 * time.Second}, Place{AtLocation, "sofa"}},
		{"expired lease", snap(map[int]Claim{10: {Agent: "gone", At: now - 200, Location: "attic"}}, nil), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"lease on its last second", snap(map[int]Claim{10: {Agent: "edge", At: now - 20, Location: "hall"}}, nil), Facts{Display: 10, Agent: "me"}, Place{AtLocation, "hall"}},
		{"lease a second over", snap(map[int]Claim{10: {Agent: "later", At: now - 20, Location: "porch"}}, nil), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"an agent without a lease", snap(map[int]Claim{10: {Agent: "stranger", At: now, Location: "x"}}, nil), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"another client", snap(nil, map[int]int{10: 1}), Facts{Display: 10, Agent: "me"}, Place{Where: OtherClient}},
		{"another client, taken", snap(nil, map[int]int{10: 2}), Facts{Display: 10, Agent: "me", Take: true}, Place{Where: Free}},
		{"xpra info failed", snap(nil, map[int]int{10: -1}), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"no clients", snap(nil, map[int]int{10: 0}), Facts{Display: 10, Agent: "me"}, Place{Where: Free}},
		{"a location wins over a client", snap(sofaAt(now-5), map[int]int{10: 1}), Facts{Display: 10, Agent: "me"}, Place{AtLocation, "sofa"}},
		{"my claim, another client", snap(map[int]Claim{10: {Agent: "me", At: now, Location: "desk"}}, map[int]int{10: 1}), Facts{Display: 10, Agent: "me"}, Place{Where: OtherClient}},
	} {
		if got := Decide(tc.snap, tc.facts); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
