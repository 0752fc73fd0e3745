package xpraclient

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestVersions: versions as `xpra --version` prints them, the pairs that
// cannot talk (each naming both versions and the fix), and the defaults
// each version accepts (3.1.3 has no --splash).
func TestVersions(t *testing.T) {
	v3, ok3 := ParseVersion("xpra v3.1.3\n")
	v6, ok6 := ParseVersion("xpra v6.5.3")
	v43, _ := ParseVersion("xpra v4.3")
	if !ok3 || !ok6 || v3.Text != "3.1.3" || v6.Major != 6 || v6.Minor != 5 || v6.Micro != 3 || v43.Text != "4.3" {
		t.Fatalf("parsed %+v %+v %+v", v3, v6, v43)
	}
	if _, ok := ParseVersion("xpra: command not found"); ok {
		t.Error("parsed a version out of no version")
	}
	for _, tc := range []struct {
		client, server Version
		want           []string
	}{
		{v3, v6, []string{"local xpra 3.1.3", "server's xpra 6.5.3", "4.3 or later", "Debian 12's is 3.1.3", "xpra.org", `client = "remote"`}},
		{v6, v3, []string{"local xpra 6.5.3", "server's xpra 3.1.3", "4.3 or later", `client = "remote"`}},
		{v3, v3, nil}, {v6, v6, nil}, {v43, v6, nil}, {v6, v43, nil}, {Version{}, v6, nil},
	} {
		got := Incompatible(tc.client, tc.server)
		if (got == "") != (tc.want == nil) {
			t.Errorf("%v with %v: %q", tc.client, tc.server, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v with %v: %q does not say %q", tc.client, tc.server, got, w)
			}
		}
	}
	// 3.1.3 has neither --splash nor --reconnect (it refuses both).
	if d := Defaults(v3); slices.Contains(d, "--splash=no") || slices.Contains(d, "--reconnect=no") || !slices.Contains(d, "--tray=no") || !slices.Contains(d, "--opengl=no") {
		t.Errorf("3.1.3 defaults %q", d)
	}
	if d := Defaults(v6); !slices.Contains(d, "--splash=no") || !slices.Contains(d, "--reconnect=no") {
		t.Errorf("6.5.3 defaults %q", d)
	}
}

// TestNoise: xpra's printing and packet-count lines do not take the place
// of its reason (a 3.1.3 client refused by a 6.5.3 server, as seen).
func TestNoise(t *testing.T) {
	tl := &Tail{}
	_, _ = tl.Write([]byte("2026-12-07 01:41:43,621     screen (339x212 mm - DPI: 95x95)\n" +
		"2026-12-07 01:41:43,632 disconnect invalid compression: zlib is not available\n" +
		"2026-12-07 01:41:43,633 Error: printing disabled:\n2026-12-07 01:41:43,633  No module named 'cups'\n" +
		"0 packets received (43 bytes)\n1 packets sent (3.4K bytes)\n"))
	got := tl.LastLines()
	if !strings.HasSuffix(got, "zlib is not available") || strings.Contains(got, "cups") || strings.Contains(got, "packets") {
		t.Errorf("LastLines %q", got)
	}
}

// TestServerVersion: the question goes to the server once; a connection
// that died before the answer leaves it for the next; a caller whose
// connection goes meanwhile does not wait for the answer.
func TestServerVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sv ServerVersion
		asks := 0
		v6 := Version{Text: "v6.5.3", Major: 6, Minor: 5}
		answer := func(v Version, again bool) func() (Version, bool) {
			return func() (Version, bool) {
				asks++
				time.Sleep(time.Second)
				return v, again
			}
		}
		ctx := context.Background()
		if got := sv.Get(ctx, nil, answer(Version{}, true)); got.Known() || asks != 1 {
			t.Errorf("a connection lost before the answer: %v after %d asks", got, asks)
		}
		if got := sv.Get(ctx, nil, answer(v6, false)); got != v6 || asks != 2 {
			t.Errorf("asked again: %v after %d asks", got, asks)
		}
		if got := sv.Get(ctx, nil, answer(Version{}, false)); got != v6 || asks != 2 {
			t.Errorf("asked once more: %v after %d asks", got, asks)
		}
		var late ServerVersion
		gone := make(chan struct{})
		close(gone)
		start := time.Now()
		if got := late.Get(ctx, gone, answer(v6, false)); got.Known() || time.Since(start) != 0 {
			t.Errorf("a connection that went: %v after %s", got, time.Since(start))
		}
		time.Sleep(time.Second) // virtual: the question still gets its answer
		if got := late.Get(ctx, nil, answer(Version{}, false)); got != v6 || asks != 3 {
			t.Errorf("the answer to the question a gone caller left: %v after %d asks", got, asks)
		}
	})
}
