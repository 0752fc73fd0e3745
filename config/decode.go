package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// decodeErr reads the decoder's type errors: "toml: line N (last key "k"): msg".
var decodeErr = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// The decoder's type errors name Go types; typeMsg says them in TOML's words.
var (
	incompatible = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (\S+)$`)
	notTable     = regexp.MustCompile(`^type mismatch for \S+: expected table but found (.+)$`)
)

// typeMsg rewords a decoder type error; other messages pass unchanged.
func typeMsg(msg string) string {
	var found, want string
	if m := incompatible.FindStringSubmatch(msg); m != nil {
		found, want = m[1], m[2]
	} else if m := notTable.FindStringSubmatch(msg); m != nil {
		found, want = m[1], "table"
	} else {
		return msg
	}
	words := map[string]string{
		"int64": "an integer", "float64": "a float", "string": "a string", "bool": "a boolean",
		"boolean": "a boolean", "integer": "an integer", "float": "a float", "slice": "an array",
		"array": "an array", "table": "a table", "map": "a table", "struct": "a table",
		"[]any": "an array", "map[string]any": "a table", "[]map[string]any": "an array of tables",
	}
	if w, ok := words[found]; ok {
		found = w
	} else if strings.HasPrefix(found, "time.") || strings.HasPrefix(found, "toml.Local") {
		found = "a date or time"
	}
	if w, ok := words[want]; ok {
		want = w
	}
	return fmt.Sprintf("wrong type: want %s, not %s", want, found)
}

// rawConfig and the raw types below are the file as the TOML decoder fills
// it; Parse checks them into a Config.
type rawConfig struct {
	Default  string                `toml:"default"`
	Location string                `toml:"location"`
	Profile  map[string]rawProfile `toml:"profile"`
	Server   map[string]rawServer  `toml:"server"`
}

type rawProfile struct {
	Match       []string     `toml:"match"`
	Output      []rawOutput  `toml:"output"`
	Server      string       `toml:"server"`
	Displays    []int        `toml:"displays"`
	Session     []rawSession `toml:"session"`
	Forward     []rawForward `toml:"forward"`
	Before      []string     `toml:"before"`
	After       []string     `toml:"after"`
	Take        string       `toml:"take"`
	Follow      string       `toml:"follow"`
	FollowAfter string       `toml:"follow_after"`
	Client      string       `toml:"client"`
	XpraArgs    []string     `toml:"xpra_args"`
}

type rawOutput struct {
	Name    string `toml:"name"`
	Mode    string `toml:"mode"`
	Primary bool   `toml:"primary"`
	RightOf string `toml:"right-of"`
	LeftOf  string `toml:"left-of"`
	Above   string `toml:"above"`
	Below   string `toml:"below"`
	Pos     string `toml:"pos"`
	Rotate  string `toml:"rotate"`
	Force   bool   `toml:"force"`
}

type rawSession struct {
	Name    string `toml:"name"`
	Command string `toml:"command"`
}

type rawForward struct {
	Listen  string `toml:"listen"`
	To      string `toml:"to"`
	Gateway bool   `toml:"gateway"`
}

type rawServer struct {
	SSH        string `toml:"ssh"`
	SSHConfig  string `toml:"ssh_config"`
	Keepalive  string `toml:"keepalive"`
	KnownHosts string `toml:"known_hosts"`
	X11        string `toml:"x11"`
	Client     string `toml:"client"`
}

// hint suggests the right spelling for common mistakes.
func hint(key string) string {
	last := key[strings.LastIndex(key, ".")+1:]
	known := map[string]string{
		"rightof": "right-of", "right_of": "right-of", "leftof": "left-of", "left_of": "left-of",
		"rotation": "rotate", "position": "pos", "resolution": "mode", "output": "[[...output]]",
		"profiles": "profile", "servers": "server", "display": "displays", "sshconfig": "ssh_config",
		"knownhosts": "known_hosts", "known-hosts": "known_hosts", "ssh-config": "ssh_config",
	}
	if k, ok := known[strings.ToLower(last)]; ok {
		return fmt.Sprintf(" (did you mean %q?)", k)
	}
	return ""
}

// tomlTypeName words a TOML type as the decoder names it.
func tomlTypeName(typ string) string {
	switch typ {
	case "ArrayHash":
		return "an array of tables ([[...]])"
	case "Array":
		return "an array"
	case "String":
		return "a string"
	case "Integer":
		return "an integer"
	case "Float":
		return "a float"
	case "Bool":
		return "a boolean"
	}
	return "a " + strings.ToLower(typ)
}

// miscased walks key through t's TOML tags and returns the index of the
// first segment that names a field only in another case, and the field's
// spelling; -1 when there is none.
func miscased(t reflect.Type, key toml.Key) (int, string) {
	for i, seg := range key {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem() // seg is a name of the user's
			continue
		case reflect.Struct:
		default:
			return -1, ""
		}
		var field *reflect.StructField
		for j := range t.NumField() {
			f := t.Field(j)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == seg {
				field = &f
				break
			}
			if strings.EqualFold(tag, seg) {
				return i, tag
			}
		}
		if field == nil {
			return -1, "" // unknown: md.Undecoded reports it
		}
		t = field.Type
	}
	return -1, ""
}

// decodeError turns the TOML decoder's error into an *Error naming the
// file, the line of the offending byte and, when it stands on that line,
// the key.
func decodeError(path string, data []byte, ix *lineIndex, err error) error {
	var pe toml.ParseError
	if ppe := (*toml.ParseError)(nil); errors.As(err, &ppe) {
		pe = *ppe
	}
	if pe.Message != "" || errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" {
			msg = pe.Error()
		}
		// The decoder counts an error at a line's end ("got '\n'") on
		// the next line, and its last key may stand lines before the
		// error: name the line of the offending byte, and the key only
		// when it is on that line.
		line, key := pe.Position.Line, pe.LastKey
		if s := pe.Position.Start; s >= 0 && s < len(data) && pe.Position.Len > 0 {
			line = 1 + bytes.Count(data[:s], []byte("\n"))
		}
		if key != "" {
			rows := strings.Split(string(data), "\n")
			last := key[strings.LastIndex(key, ".")+1:]
			if line < 1 || line > len(rows) || !strings.Contains(rows[line-1], last) {
				key = ""
			}
		}
		return &Error{File: path, Line: line, Key: key, Msg: msg}
	}
	// Type mismatches come as "toml: line N (last key "k"): msg"; the
	// earliest in the file is the one to name.
	if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
		if tm, ok := firstTypeError(string(data), ix); ok {
			return &Error{File: path, Line: tm.line, Key: stripIndices(tm.path), Msg: fmt.Sprintf("wrong type: want %s, not %s", tm.want, tm.found)}
		}
		line, _ := strconv.Atoi(m[1])
		if line == 0 {
			line = ix.line(m[2])
		}
		return &Error{File: path, Line: line, Key: m[2], Msg: typeMsg(m[3])}
	}
	return &Error{File: path, Msg: err.Error()}
}

// checkKeys reports the first key the decoder did not use, the first key
// spelt in another case than the field it matched (t is rawConfig's type),
// and the first profile or server that is not a table.
func (ps *fileChecker) checkKeys(md toml.MetaData, t reflect.Type) error {
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return ps.errAt(k, "unknown key %q%s", und[0][len(und[0])-1], hint(k))
	}
	// TOML keys are case-sensitive, but the decoder matches struct fields
	// without regard to case: "Profile" or "nAme" would pass unnoticed.
	for _, k := range md.Keys() {
		if bad, want := miscased(t, k); bad >= 0 {
			return ps.errAt(k[:bad+1].String(), "unknown key %q%s", k[bad], fmt.Sprintf(" (did you mean %q?)", want))
		}
	}
	// profile, server and each profile and server are tables; the decoder
	// quietly drops an array of tables ([[profile]]) in their place.
	for _, k := range md.Keys() {
		if len(k) > 2 || (k[0] != "profile" && k[0] != "server") {
			continue
		}
		if typ := md.Type(k...); typ != "Hash" {
			want := "[" + k[0] + ".NAME]"
			if len(k) == 2 {
				want = "[" + k.String() + "]"
			}
			return ps.errAt(k.String(), "must be a table such as %s, not %s", want, tomlTypeName(typ))
		}
	}
	return nil
}
