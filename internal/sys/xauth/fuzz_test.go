package xauth

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse (in xauth_test.go) fuzzes the Xauthority reader; its seeds,
// among them files written by xauth(1), are in testdata/fuzz/FuzzParse.

// FuzzParseDisplay fuzzes the DISPLAY parser: DISPLAY comes from the
// environment, so anything may be in it.
func FuzzParseDisplay(f *testing.F) {
	for _, s := range []string{":0", ":10.0", "unix:10", "localhost:10.2", "/tmp/.X11-unix/X10",
		"/private/tmp/com.apple.launchd.abc/org.xquartz:0", "host::0", "tcp/host:0", ":$(reboot)", ":99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDisplay(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDisplay) {
				t.Fatalf("error %v does not wrap ErrInvalidDisplay", err)
			}
			// The message never carries the hostile bytes back.
			for _, c := range []byte(err.Error()) {
				if c < 0x20 || c >= 0x7f {
					t.Fatalf("error %q carries byte 0x%02x", err, c)
				}
			}
			if strings.ContainsAny(s, "$`;|&'") && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q echoes the value", err)
			}
			return
		}
		for i := 0; i < len(s); i++ {
			if !displayCharOK(s[i]) {
				t.Fatalf("accepted %q with byte 0x%02x", s, s[i])
			}
		}
		if _, nerr := strconv.ParseUint(d.Number, 10, 31); nerr != nil || strings.Trim(d.Number, "0123456789") != "" {
			t.Fatalf("%q: display number %q", s, d.Number)
		}
		if d.Screen < 0 {
			t.Fatalf("%q: screen %d", s, d.Screen)
		}
		if d.Path != "" {
			if !d.Unix || !d.LocalAuth || d.Host != "" || s[0] != '/' || d.Path != s {
				t.Fatalf("%q: socket display %+v", s, d)
			}
			return
		}
		if d.Unix != (d.Host == "") || d.LocalAuth != (d.Unix || d.Host == "localhost") || d.Host == "unix" {
			t.Fatalf("%q: %+v", s, d)
		}
		// Written back, it reads the same.
		re := d.Host + ":" + d.Number + "." + strconv.Itoa(d.Screen)
		d2, err := ParseDisplay(re)
		if err != nil || d2 != d {
			t.Fatalf("%q parsed as %+v; %q parses as %+v, %v", s, d, re, d2, err)
		}
	})
}

// FuzzFind checks Find against its definition on parsed files.
func FuzzFind(f *testing.F) {
	f.Add(twoRecords, "perch-box", "10")
	f.Add(twoRecords, "other", "0")
	f.Fuzz(func(t *testing.T, b []byte, host, number string) {
		entries, err := Parse(b)
		if err != nil {
			return
		}
		e, ok := Find(entries, host, number)
		for i, c := range entries {
			applies := (c.Family == FamilyWild || c.Family == FamilyLocal && string(c.Address) == host) &&
				(c.Number == "" || c.Number == number)
			if applies {
				if !ok || string(e.Data) != string(c.Data) || e.Name != c.Name || e.Family != c.Family {
					t.Fatalf("Find = %+v, %v; entry %d (%+v) applies first", e, ok, i, c)
				}
				return
			}
		}
		if ok {
			t.Fatalf("Find = %+v, but no entry applies", e)
		}
	})
}
