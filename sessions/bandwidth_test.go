package sessions

import "testing"

// TestLimitArgs: a local client starts with perch's limit unless its own
// options set one, in either of xpra's spellings.
func TestLimitArgs(t *testing.T) {
	l := New(Options{Server: "s"})
	l.bw.Set(3_800_000, 4_750_000)
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, 3_800_000},
		{[]string{"--encoding=jpeg"}, 3_800_000},
		{[]string{"--bandwidth-limit=10M"}, 0},
		{[]string{"--bandwidth-limit", "10M"}, 0},
		{[]string{"--bandwidth-limit=0"}, 0},
	} {
		limit, changed := l.xpraLimit(LocalDisplaySpec(10, tc.args, "").Local)
		if limit != tc.want || (changed == nil) != (tc.want == 0) {
			t.Errorf("%q: limit %d (changed %v), want %d", tc.args, limit, changed != nil, tc.want)
		}
	}
	if st := l.Status().Link; st.XpraLimit != 3_800_000 || st.Carried != 4_750_000 {
		t.Errorf("status: %+v", st)
	}
}
