package testbed

import "testing"

// TestFrameCounter: new frames count; unpainted windows (all white, all
// black), jumps back and implausible jumps forward do not.
func TestFrameCounter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reads []int
		want  int
	}{
		{"steady", []int{100, 101, 101, 102, 105}, 3},
		{"a new window, white before its first paint", []int{100, 101, 0xffff, 0xffff, 140, 141}, 3},
		{"black", []int{100, 0, 0, 101}, 1},
		{"half painted", []int{100, 0x8064, 101, 102}, 2},
		{"backwards", []int{100, 99, 101}, 1},
	} {
		f := NewFrameCounter()
		for _, n := range tc.reads {
			f.Add(n)
		}
		if f.Seen != tc.want {
			t.Errorf("%s: %d frames, want %d", tc.name, f.Seen, tc.want)
		}
	}
}
