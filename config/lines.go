package config

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex maps TOML key paths to the line they stand on, so that errors
// found after decoding (unknown keys, bad values) can name file and line.
// Paths are dotted; an array-of-tables element is written name[i] (0-based)
// and is also recorded without the index.
type lineIndex struct {
	lines map[string]int
	// headers are the table headers in file order: for layout save.
	headers []header
	total   int
}

type header struct {
	path string   // without indices
	segs []string // the key's parts, unquoted: profile, "a.b" is [profile a.b]
	line int      // 1-based
}

func (ix *lineIndex) set(path string, line int) {
	if _, ok := ix.lines[path]; !ok {
		ix.lines[path] = line
	}
}

// setParents records line n for the tables path names on its way (a.b for
// a.b.c), after its first from characters, where none is recorded yet.
func (ix *lineIndex) setParents(path string, from, n int) {
	for j := from + 1; j < len(path); j++ {
		if path[j] == '.' {
			ix.set(path[:j], n)
			ix.set(stripIndices(path[:j]), n)
		}
	}
}

// line returns the line of path, or of its nearest recorded parent; 0 if
// none is known.
func (ix *lineIndex) line(path string) int {
	for path != "" {
		if l, ok := ix.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// indexLines scans TOML text. It understands what config files use: tables,
// arrays of tables, key = value with dotted or quoted keys, multi-line
// strings and multi-line arrays. It never fails: a line it cannot read is
// skipped (the TOML decoder reports syntax errors itself).
func indexLines(text string) *lineIndex {
	ix := &lineIndex{lines: map[string]int{}}
	counts := map[string]int{} // array-of-tables path → elements seen
	current := ""              // current table path, with indices
	var val valueScan          // the value of the last key, while it spans lines
	rows := strings.Split(text, "\n")
	ix.total = len(rows)
	for i, raw := range rows {
		n := i + 1
		if val.open() {
			// A multi-line string or array (or a string inside an array).
			val.feed(raw)
			continue
		}
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		switch {
		case strings.HasPrefix(line, "[["):
			end := headerEnd(line, 2, "]]")
			if end < 0 {
				continue
			}
			segs := keySegments(line[2:end])
			p := strings.Join(segs, ".")
			counts[p]++
			current = withIndices(p, counts)
			ix.setParents(current, 0, n) // [[profile.a.output]] alone defines profile.a
			ix.set(current, n)
			ix.set(p, n)
			ix.headers = append(ix.headers, header{p, segs, n})
		case line[0] == '[':
			end := headerEnd(line, 1, "]")
			if end < 0 {
				continue
			}
			segs := keySegments(line[1:end])
			p := strings.Join(segs, ".")
			current = withIndices(p, counts)
			ix.setParents(current, 0, n) // [[profile.a.output]] alone defines profile.a
			ix.set(current, n)
			ix.set(p, n)
			ix.headers = append(ix.headers, header{p, segs, n})
		default:
			eq := keyEnd(line)
			if eq < 0 {
				continue
			}
			k := keyPath(line[:eq])
			full := k
			if current != "" {
				full = current + "." + k
			}
			// A dotted key also defines its tables (profile.a.match = [...]
			// defines profile.a), unless a header did before.
			ix.setParents(full, len(current), n)
			ix.set(full, n)
			ix.set(stripIndices(full), n)
			val.feed(line[eq+1:])
		}
	}
	return ix
}

// withIndices adds the current element index to every prefix of p that is
// an array of tables ([[profile.desk.output]] then [profile.desk.output.x]).
func withIndices(p string, counts map[string]int) string {
	parts := strings.Split(p, ".")
	var b strings.Builder
	for i, part := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
		if c := counts[strings.Join(parts[:i+1], ".")]; c > 0 {
			b.WriteString("[" + strconv.Itoa(c-1) + "]")
		}
	}
	return b.String()
}

func stripIndices(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// headerEnd finds the closer of a table header from index from on, outside
// quoted key parts ([profile."a]b"]); -1 if there is none.
func headerEnd(line string, from int, closer string) int {
	var quote byte
	for i := from; i < len(line); i++ {
		switch c := line[i]; {
		case quote == '"' && c == '\\':
			i++ // an escape: the next byte cannot end the string
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case strings.HasPrefix(line[i:], closer):
			return i
		}
	}
	return -1
}

// keyEnd finds the '=' that ends the key part of a key/value line.
func keyEnd(line string) int {
	var quote rune
	escaped := false
	for i, r := range line {
		switch {
		case escaped:
			escaped = false
		case quote == '"' && r == '\\':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '=':
			return i
		}
	}
	return -1
}

// keyPath normalises a (possibly dotted, quoted) TOML key to a.b.c.
func keyPath(s string) string { return strings.Join(keySegments(s), ".") }

// keySegments splits a (possibly dotted, quoted) TOML key into its parts.
func keySegments(s string) []string {
	var parts []string
	var cur, raw strings.Builder
	var quote rune
	escaped := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case quote == '"':
			// A basic string: its escapes are the decoder's to read.
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				quote = 0
				cur.WriteString(basicString(raw.String()))
				raw.Reset()
				continue
			}
			raw.WriteRune(r)
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		case r == ' ' || r == '\t':
		default:
			cur.WriteRune(r)
		}
	}
	return append(parts, cur.String())
}

// basicString is the value of the TOML basic string whose text between
// the quotes is raw, as the decoder reads it (escapes such as \b, \u00e9);
// raw itself when it does not decode.
func basicString(raw string) string {
	if !strings.Contains(raw, "\\") {
		return raw
	}
	var v struct{ S string }
	if _, err := toml.Decode("S = \""+raw+"\"", &v); err != nil {
		return raw
	}
	return v.S
}

// valueScan follows a TOML value across lines: the brackets of arrays (and
// braces of inline tables) left open, and the multi-line string it is in.
type valueScan struct {
	depth int
	ml    string // `"""` or `'''` while inside a multi-line string
}

func (v *valueScan) open() bool { return v.depth > 0 || v.ml != "" }

// feed reads one line (or the rest of one) of the value.
func (v *valueScan) feed(s string) {
	for i := 0; i < len(s); {
		if v.ml != "" {
			j := strings.Index(s[i:], v.ml)
			if j < 0 {
				return
			}
			i += j + 3
			// Up to two more quotes belong to the string ("a"""" ends in a quote).
			for k := 0; k < 2 && i < len(s) && s[i] == v.ml[0]; k++ {
				i++
			}
			v.ml = ""
			continue
		}
		switch c := s[i]; {
		case c == '#':
			return
		case strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], "'''"):
			v.ml = s[i : i+3]
			i += 3
			continue
		case c == '"' || c == '\'':
			// A one-line string: up to the closing quote (basic strings
			// escape with a backslash).
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		case c == '[' || c == '{':
			v.depth++
		case c == ']' || c == '}':
			if v.depth > 0 {
				v.depth--
			}
		}
		i++
	}
}
