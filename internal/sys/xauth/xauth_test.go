package xauth

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"
)

var testCookie = []byte{
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
}

// twoRecords is a hand-encoded file with two records, independent of
// Marshal so it can catch a bug shared by both directions.
var twoRecords = []byte{
	0x01, 0x00, // family 256 (Local)
	0x00, 0x04, 'h', 'o', 's', 't', // address "host"
	0x00, 0x02, '1', '0', // number "10"
	0x00, 0x12, 'M', 'I', 'T', '-', 'M', 'A', 'G', 'I', 'C', '-', 'C', 'O', 'O', 'K', 'I', 'E', '-', '1',
	0x00, 0x03, 0xde, 0xad, 0x01, // data
	0xff, 0xff, // family 65535 (Wild)
	0x00, 0x00, // address ""
	0x00, 0x00, // number ""
	0x00, 0x01, 'X', // name "X"
	0x00, 0x00, // data ""
}

func TestParse(t *testing.T) {
	got, err := Parse(twoRecords)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Entry{
		{Family: FamilyLocal, Address: []byte("host"), Number: "10", Name: "MIT-MAGIC-COOKIE-1", Data: []byte{0xde, 0xad, 0x01}},
		{Family: FamilyWild, Address: []byte{}, Number: "", Name: "X", Data: []byte{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %#v, want %#v", got, want)
	}
	// The entries must not alias the input.
	buf := bytes.Clone(twoRecords)
	got, _ = Parse(buf)
	for i := range buf {
		buf[i] = 0
	}
	if string(got[0].Address) != "host" || !bytes.Equal(got[0].Data, []byte{0xde, 0xad, 0x01}) {
		t.Fatalf("entries alias the input: %#v", got[0])
	}
}

func TestParseEmpty(t *testing.T) {
	got, err := Parse(nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Parse(nil) = %v, %v; want no entries, no error", got, err)
	}
}

func TestParseTruncated(t *testing.T) {
	// Record 1 is twoRecords[:37] (2+6+4+20+5 bytes); record 2 starts at
	// byte 37.
	const rec2 = 37
	tests := []struct {
		name   string
		in     []byte
		record int
		offset int
		field  string
	}{
		{"one byte of family", []byte{0x01}, 1, 0, "family"},
		{"no address length", []byte{0x01, 0x00}, 1, 0, "address length"},
		{"half address length", []byte{0x01, 0x00, 0x00}, 1, 0, "address length"},
		{"short address", []byte{0x01, 0x00, 0x00, 0x04, 'h', 'o'}, 1, 0, "address"},
		{"no number length", twoRecords[:8], 1, 0, "number length"},
		{"short number", twoRecords[:11], 1, 0, "number"},
		{"short name", twoRecords[:20], 1, 0, "name"},
		{"no data length", twoRecords[:32], 1, 0, "data length"},
		{"short data", twoRecords[:36], 1, 0, "data"},
		{"second record family", twoRecords[:rec2+1], 2, rec2, "family"},
		{"second record name", twoRecords[:rec2+8], 2, rec2, "name"},
		{"second record data length", twoRecords[:len(twoRecords)-1], 2, rec2, "data length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse succeeded with %d entries, want error", len(got))
			}
			if got != nil {
				t.Errorf("entries = %v, want nil on error", got)
			}
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if xe.Record != tt.record || xe.Offset != tt.offset || xe.Field != tt.field {
				t.Errorf("error = record %d offset %d field %q, want record %d offset %d field %q",
					xe.Record, xe.Offset, xe.Field, tt.record, tt.offset, tt.field)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	err := (&Error{Record: 3, Offset: 120, Field: "address"}).Error()
	want := "xauthority: record 3 at byte 120: truncated address field"
	if err != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
}

func TestMarshal(t *testing.T) {
	entries := []Entry{
		{Family: FamilyLocal, Address: []byte("host"), Number: "10", Name: "MIT-MAGIC-COOKIE-1", Data: []byte{0xde, 0xad, 0x01}},
		{Family: FamilyWild, Name: "X"},
	}
	if got := Marshal(entries); !bytes.Equal(got, twoRecords) {
		t.Fatalf("Marshal = %x, want %x", got, twoRecords)
	}
	if got := Marshal(nil); len(got) != 0 {
		t.Fatalf("Marshal(nil) = %x, want empty", got)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	entries := []Entry{
		{Family: FamilyInternet, Address: []byte{127, 0, 0, 1}, Number: "0", Name: "MIT-MAGIC-COOKIE-1", Data: testCookie},
		{Family: FamilyInternet6, Address: bytes.Repeat([]byte{0xfe}, 16), Number: "1", Name: "MIT-MAGIC-COOKIE-1", Data: testCookie},
		{Family: FamilyLocal, Address: []byte("perch-box"), Number: "10", Name: "XDM-AUTHORIZATION-1", Data: bytes.Repeat([]byte{7}, 300)},
		{Family: FamilyWild, Address: []byte{}, Number: "", Name: "", Data: []byte{}},
	}
	got, err := Parse(Marshal(entries))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got, entries) {
		t.Fatalf("round trip = %#v, want %#v", got, entries)
	}
}

func TestMarshalLongField(t *testing.T) {
	long := bytes.Repeat([]byte{'a'}, 70000)
	got, err := Parse(Marshal([]Entry{{Family: FamilyLocal, Data: long}}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got) != 1 || len(got[0].Data) != 0xFFFF {
		t.Fatalf("long data field: got %d entries, data length %d; want 1 entry of 65535 bytes", len(got), len(got[0].Data))
	}
}

func TestPath(t *testing.T) {
	t.Setenv("XAUTHORITY", "/run/user/1000/xauth_abc")
	t.Setenv("HOME", "/home/alice")
	if got := Path(); got != "/run/user/1000/xauth_abc" {
		t.Errorf("with $XAUTHORITY: Path() = %q, want %q", got, "/run/user/1000/xauth_abc")
	}
	t.Setenv("XAUTHORITY", "")
	if got, want := Path(), filepath.Join("/home/alice", ".Xauthority"); got != want {
		t.Errorf("with $HOME only: Path() = %q, want %q", got, want)
	}
	t.Setenv("HOME", "")
	if got := Path(); got != "" {
		t.Errorf("with neither: Path() = %q, want \"\"", got)
	}
}

func TestFind(t *testing.T) {
	local := func(addr, num string, data byte) Entry {
		return Entry{Family: FamilyLocal, Address: []byte(addr), Number: num, Name: "MIT-MAGIC-COOKIE-1", Data: []byte{data}}
	}
	wild := func(num string, data byte) Entry {
		return Entry{Family: FamilyWild, Number: num, Name: "MIT-MAGIC-COOKIE-1", Data: []byte{data}}
	}
	inet := Entry{Family: FamilyInternet, Address: []byte("host"), Number: "10", Data: []byte{9}}
	tests := []struct {
		name     string
		entries  []Entry
		host     string
		num      string
		wantData byte // Data[0] of the expected entry
		wantOK   bool
	}{
		{"no entries", nil, "host", "10", 0, false},
		{"local exact", []Entry{local("host", "10", 1)}, "host", "10", 1, true},
		{"local other host", []Entry{local("other", "10", 1)}, "host", "10", 0, false},
		{"local host is prefix", []Entry{local("hostname", "10", 1)}, "host", "10", 0, false},
		{"local other number", []Entry{local("host", "11", 1)}, "host", "10", 0, false},
		{"number is a prefix", []Entry{local("host", "1", 1)}, "host", "10", 0, false},
		{"local empty number", []Entry{local("host", "", 2)}, "host", "10", 2, true},
		{"wild any host", []Entry{wild("10", 3)}, "anything", "10", 3, true},
		{"wild other number", []Entry{wild("11", 3)}, "host", "10", 0, false},
		{"wild empty number", []Entry{wild("", 4)}, "host", "99", 4, true},
		{"internet family ignored", []Entry{inet}, "host", "10", 0, false},
		{"skips non-matching", []Entry{inet, local("other", "10", 1), local("host", "11", 2), local("host", "10", 5)}, "host", "10", 5, true},
		{"first match wins", []Entry{local("host", "10", 6), wild("", 7), local("host", "10", 8)}, "host", "10", 6, true},
		{"first match wins wild", []Entry{wild("", 7), local("host", "10", 6)}, "host", "10", 7, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Find(tt.entries, tt.host, tt.num)
			if ok != tt.wantOK {
				t.Fatalf("Find ok = %v, want %v (entry %#v)", ok, tt.wantOK, got)
			}
			if !ok {
				if !reflect.DeepEqual(got, Entry{}) {
					t.Errorf("Find returned %#v with ok=false, want zero entry", got)
				}
				return
			}
			if len(got.Data) != 1 || got.Data[0] != tt.wantData {
				t.Errorf("Find picked entry with data %v, want [%d]", got.Data, tt.wantData)
			}
		})
	}
}

func TestParseDisplay(t *testing.T) {
	tests := []struct {
		in   string
		want Display
	}{
		{":0", Display{Number: "0", Unix: true, LocalAuth: true}},
		{":10", Display{Number: "10", Unix: true, LocalAuth: true}},
		{":10.0", Display{Number: "10", Screen: 0, Unix: true, LocalAuth: true}},
		{":10.3", Display{Number: "10", Screen: 3, Unix: true, LocalAuth: true}},
		{"unix:10", Display{Number: "10", Unix: true, LocalAuth: true}},
		{"unix:10.1", Display{Number: "10", Screen: 1, Unix: true, LocalAuth: true}},
		{"localhost:10", Display{Host: "localhost", Number: "10", LocalAuth: true}},
		{"localhost:10.2", Display{Host: "localhost", Number: "10", Screen: 2, LocalAuth: true}},
		{"remote.example.com:1", Display{Host: "remote.example.com", Number: "1"}},
		{"my-host_1:0.0", Display{Host: "my-host_1", Number: "0"}},
		{"10.0.0.5:3", Display{Host: "10.0.0.5", Number: "3"}},
		{"::1:0", Display{Host: "::1", Number: "0"}},
		{"/tmp/.X11-unix/X10", Display{Number: "10", Unix: true, LocalAuth: true, Path: "/tmp/.X11-unix/X10"}},
		{"/tmp/.X11-unix/X0", Display{Number: "0", Unix: true, LocalAuth: true, Path: "/tmp/.X11-unix/X0"}},
		{"/private/tmp/com.apple.launchd.AbC/org.xquartz:0", Display{Number: "0", Unix: true, LocalAuth: true, Path: "/private/tmp/com.apple.launchd.AbC/org.xquartz:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDisplay(tt.in)
			if err != nil {
				t.Fatalf("ParseDisplay(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseDisplay(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDisplayInvalid(t *testing.T) {
	tests := []string{
		"",
		"$(exec ls)",
		":0$(exec ls)",
		"`id`:0",
		":0;rm -rf ~",
		":0 ",
		" :0",
		":0\n",
		":0\x00",
		"host name:0",
		"h\u00e9te:0", // non-ASCII letter
		"'localhost':0",
		"\"localhost\":0",
		"localhost:0|cat",
		"localhost:0&",
		"localhost",
		"0",
		":",
		"host:",
		":abc",
		":-1",
		":0x10",
		":10.",
		":10.a",
		":10.0.1",
		":99999999999",
		"host::0",
		"::0",
		"tcp/localhost:0",
		"unix/:0",
		"/tmp/.X11-unix/",
		"/tmp/.X11-unix/Y10",
		"/tmp/.X11-unix/X",
		"/tmp/.X11-unix/X1a",
		"/tmp/sock:",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDisplay(in)
			if err == nil {
				t.Fatalf("ParseDisplay(%q) = %+v, want error", in, got)
			}
			if !errors.Is(err, ErrInvalidDisplay) {
				t.Errorf("ParseDisplay(%q) error %v does not wrap ErrInvalidDisplay", in, err)
			}
			if got != (Display{}) {
				t.Errorf("ParseDisplay(%q) returned %+v with error, want zero Display", in, got)
			}
		})
	}
}

func TestParseDisplayErrorDoesNotEchoHostileInput(t *testing.T) {
	_, err := ParseDisplay(":0\x1b]0;pwned\x07")
	if err == nil {
		t.Fatal("ParseDisplay accepted an escape sequence")
	}
	if bytes.ContainsAny([]byte(err.Error()), "\x1b\x07") || bytes.Contains([]byte(err.Error()), []byte("pwned")) {
		t.Fatalf("error echoes hostile input: %q", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(twoRecords)
	f.Add([]byte{})
	f.Add(twoRecords[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Parse(b)
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if xe.Offset < 0 || xe.Offset >= len(b) || xe.Record < 1 {
				t.Fatalf("error %v has offset %d / record %d out of range for %d bytes", err, xe.Offset, xe.Record, len(b))
			}
			return
		}
		out := Marshal(entries)
		// The format has no slack, so a successful parse re-encodes exactly.
		if !bytes.Equal(out, b) {
			t.Fatalf("Marshal(Parse(b)) = %x, want %x", out, b)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(again, entries) {
			t.Fatalf("re-parse = %#v, want %#v", again, entries)
		}
	})
}
