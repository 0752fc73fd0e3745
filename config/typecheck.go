package config

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// typeMismatch is a key whose value does not fit the configuration's type.
type typeMismatch struct {
	path        string // with array-of-tables indices: profile.a.output[1].primary
	line        int
	want, found string
}

// firstTypeError finds every key of data whose value does not fit
// rawConfig and returns the one on the earliest line. The decoder reports
// whichever it meets first, and it walks tables in random order: with two
// wrong keys the message would change from run to run. ok is false when
// it finds none (the decoder's own error then stands).
func firstTypeError(data string, ix *lineIndex) (typeMismatch, bool) {
	var doc map[string]any
	if _, err := toml.Decode(data, &doc); err != nil {
		return typeMismatch{}, false
	}
	var all []typeMismatch
	walkTypes(doc, reflect.TypeOf(rawConfig{}), "", ix, &all)
	if len(all) == 0 {
		return typeMismatch{}, false
	}
	return slices.MinFunc(all, func(a, b typeMismatch) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.path, b.path))
	}), true
}

// walkTypes checks value v against Go type t at path.
func walkTypes(v any, t reflect.Type, path string, ix *lineIndex, out *[]typeMismatch) {
	bad := func(want string) {
		*out = append(*out, typeMismatch{path: path, line: ix.line(path), want: want, found: tomlWord(v)})
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			bad("a table")
			return
		}
		for k, sub := range m {
			if t.Kind() == reflect.Map {
				walkTypes(sub, t.Elem(), join(k), ix, out)
			} else if f, ok := fieldByTag(t, k); ok {
				walkTypes(sub, f.Type, join(k), ix, out)
			}
		}
	case reflect.Slice:
		switch a := v.(type) {
		case []map[string]any:
			for i, e := range a {
				walkTypes(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ix, out)
			}
		case []any:
			for i, e := range a {
				p := path // a value's type error names the array
				if t.Elem().Kind() == reflect.Struct {
					p = fmt.Sprintf("%s[%d]", path, i)
				}
				walkTypes(e, t.Elem(), p, ix, out)
			}
		default:
			bad("an array")
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Int, reflect.Int64:
		if _, ok := v.(int64); !ok {
			bad("an integer")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("a boolean")
		}
	}
}

// fieldByTag finds the field of struct t whose TOML tag is k, in any
// case, as the decoder matches them (checkKeys reports the wrong case).
func fieldByTag(t reflect.Type, k string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); strings.EqualFold(name, k) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tomlWord names a decoded TOML value's type for people.
func tomlWord(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date or time"
	}
	return fmt.Sprintf("a %T", v)
}
