// Package xauth reads and writes Xauthority files natively and parses
// DISPLAY values, so X11 forwarding does not depend on the xauth program.
package xauth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Address families used in Xauthority records (see X11/Xauth.h).
const (
	// FamilyInternet is an IPv4 address (4 bytes).
	FamilyInternet uint16 = 0
	// FamilyInternet6 is an IPv6 address (16 bytes).
	FamilyInternet6 uint16 = 6
	// FamilyLocal is a local connection; the address is the host name.
	FamilyLocal uint16 = 256
	// FamilyWild matches any address.
	FamilyWild uint16 = 65535
)

// maxXauthField is the largest field a record can hold: lengths are u16.
const maxXauthField = 0xFFFF

// Entry is one record of an Xauthority file.
type Entry struct {
	// Family is the address family, e.g. FamilyLocal or FamilyWild.
	Family uint16
	// Address is the raw address; for FamilyLocal it is the host name.
	Address []byte
	// Number is the display number in decimal ASCII; empty matches any display.
	Number string
	// Name is the authorization protocol, e.g. "MIT-MAGIC-COOKIE-1".
	Name string
	// Data is the authorization data (the cookie).
	Data []byte
}

// Error reports a malformed Xauthority file. It unwraps to
// io.ErrUnexpectedEOF, since the only way a record can be malformed is by
// ending before its declared length.
type Error struct {
	// Record is the number of the bad record, counting from 1.
	Record int
	// Offset is the byte offset in the file at which the bad record starts.
	Offset int
	// Field names the field that is cut short: "family", "address",
	// "number", "name" or "data", optionally followed by " length".
	Field string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("xauthority: record %d at byte %d: truncated %s field", e.Record, e.Offset, e.Field)
}

// Unwrap returns io.ErrUnexpectedEOF.
func (e *Error) Unwrap() error { return io.ErrUnexpectedEOF }

// Parse decodes the contents of an Xauthority file (the format
// written by libXau): a sequence of records, each a big-endian u16 family
// followed by four fields (address, display number, auth name, auth data),
// each a big-endian u16 length and that many bytes. An empty input yields
// no entries. A record cut short is reported as an *Error naming
// the record and its byte offset. The returned entries do not alias b.
func Parse(b []byte) ([]Entry, error) {
	var entries []Entry
	off := 0
	for rec := 1; off < len(b); rec++ {
		start := off
		fail := func(field string) error {
			return &Error{Record: rec, Offset: start, Field: field}
		}
		if len(b)-off < 2 {
			return nil, fail("family")
		}
		e := Entry{Family: binary.BigEndian.Uint16(b[off:])}
		off += 2
		var fields [4][]byte
		for i, name := range [4]string{"address", "number", "name", "data"} {
			if len(b)-off < 2 {
				return nil, fail(name + " length")
			}
			n := int(binary.BigEndian.Uint16(b[off:]))
			off += 2
			if len(b)-off < n {
				return nil, fail(name)
			}
			// Clone of a non-nil slice is non-nil, so empty fields are []byte{}.
			fields[i] = bytes.Clone(b[off : off+n : off+n])
			off += n
		}
		e.Address = fields[0]
		e.Number = string(fields[1])
		e.Name = string(fields[2])
		e.Data = fields[3]
		entries = append(entries, e)
	}
	return entries, nil
}

// Marshal encodes entries in the Xauthority file format; it is
// the inverse of Parse. The format cannot represent a field
// longer than 65535 bytes; such a field is cut to its first 65535 bytes.
func Marshal(entries []Entry) []byte {
	var out []byte
	field := func(f []byte) {
		if len(f) > maxXauthField {
			f = f[:maxXauthField]
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(f)))
		out = append(out, f...)
	}
	for _, e := range entries {
		out = binary.BigEndian.AppendUint16(out, e.Family)
		field(e.Address)
		field([]byte(e.Number))
		field([]byte(e.Name))
		field(e.Data)
	}
	return out
}

// Path returns the Xauthority file to use: $XAUTHORITY if set and
// non-empty, else $HOME/.Xauthority. It returns "" when neither variable
// is set, as libXau does.
func Path() string {
	if p := os.Getenv("XAUTHORITY"); p != "" {
		return p
	}
	if home := os.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".Xauthority")
	}
	return ""
}

// Find returns the first entry, in file order, that applies to local
// display displayNumber on the machine named hostname. An entry applies
// when its family is FamilyWild, or its family is FamilyLocal and its
// address equals hostname; and its number is empty or equals
// displayNumber. It returns ok=false if no entry applies.
func Find(entries []Entry, hostname string, displayNumber string) (Entry, bool) {
	for _, e := range entries {
		addrOK := e.Family == FamilyWild ||
			(e.Family == FamilyLocal && string(e.Address) == hostname)
		numOK := e.Number == "" || e.Number == displayNumber
		if addrOK && numOK {
			return e, true
		}
	}
	return Entry{}, false
}

// ErrInvalidDisplay is wrapped by every error ParseDisplay returns.
var ErrInvalidDisplay = errors.New("invalid DISPLAY")

// Display is a parsed DISPLAY value.
type Display struct {
	// Host is the host name for a TCP display, or "" for a local (Unix
	// socket) display, including the "unix:N" form.
	Host string
	// Number is the display number in decimal, e.g. "10" for ":10.0".
	Number string
	// Screen is the default screen, 0 when not given.
	Screen int
	// Unix is true when the display is reached through a local socket:
	// the host was empty or "unix", or DISPLAY was a socket path.
	Unix bool
	// LocalAuth is true when the Xauthority entry must be looked up as a
	// local one (FamilyLocal with this machine's host name): for every
	// Unix display and also for "localhost:N", whose cookie xauth stores
	// under the local host name although it is reached over TCP.
	LocalAuth bool
	// Path is the socket path when DISPLAY named a socket directly (it
	// began with "/"), e.g. "/tmp/.X11-unix/X10"; otherwise "".
	Path string
}

// displayCharOK reports whether c may appear in a DISPLAY value. The set is
// the one OpenSSH's client_x11_get_proto accepts, so that a hostile DISPLAY
// can never smuggle shell syntax or odd bytes anywhere.
func displayCharOK(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte(":/.-_", c) >= 0
}

// allDigits reports whether s is a non-empty decimal number that fits in
// 31 bits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(s, 10, 31)
	return err == nil
}

// ParseDisplay parses a DISPLAY value such as ":10", ":10.0", "unix:10",
// "localhost:10.2" or "/tmp/.X11-unix/X10". Only ASCII letters, digits
// and ":/.-_" are accepted; anything else (spaces, "$", quotes, control
// characters...) is rejected. DECnet ("host::0") and "protocol/host:N"
// forms are not supported. Errors wrap ErrInvalidDisplay.
func ParseDisplay(s string) (Display, error) {
	bad := func(format string, args ...any) (Display, error) {
		return Display{}, fmt.Errorf("%w %q: %s", ErrInvalidDisplay, s, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return Display{}, fmt.Errorf("%w: DISPLAY is empty", ErrInvalidDisplay)
	}
	for i := 0; i < len(s); i++ {
		if !displayCharOK(s[i]) {
			// Do not echo the hostile value back; show where it went wrong.
			return Display{}, fmt.Errorf("%w: character %d is not allowed (only letters, digits and \":/.-_\" are)", ErrInvalidDisplay, i+1)
		}
	}

	if s[0] == '/' {
		// A socket path: "/tmp/.X11-unix/X10", or a launchd socket such as
		// "/private/tmp/com.apple.launchd.abc/org.xquartz:0".
		base := s[strings.LastIndexByte(s, '/')+1:]
		var num string
		if i := strings.LastIndexByte(base, ':'); i >= 0 {
			num = base[i+1:]
		} else if strings.HasPrefix(base, "X") {
			num = base[1:]
		}
		if !allDigits(num) {
			return bad("cannot find the display number at the end of the socket path")
		}
		return Display{Number: num, Unix: true, LocalAuth: true, Path: s}, nil
	}

	colon := strings.LastIndexByte(s, ':')
	if colon < 0 {
		return bad("missing \":\" before the display number")
	}
	host, rest := s[:colon], s[colon+1:]
	if strings.HasSuffix(host, ":") {
		return bad("DECnet displays are not supported")
	}
	if strings.Contains(host, "/") {
		return bad("protocol prefixes are not supported")
	}
	num, screen, hasScreen := strings.Cut(rest, ".")
	if !allDigits(num) {
		return bad("the display number must be a decimal number")
	}
	d := Display{Host: host, Number: num}
	if hasScreen {
		if !allDigits(screen) {
			return bad("the screen number must be a decimal number")
		}
		d.Screen, _ = strconv.Atoi(screen) // allDigits checked the range
	}
	if d.Host == "unix" {
		d.Host = ""
	}
	d.Unix = d.Host == ""
	d.LocalAuth = d.Unix || d.Host == "localhost"
	return d, nil
}
