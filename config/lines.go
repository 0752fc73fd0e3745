package config

import (
	"strconv"
	"strings"
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
	path string // without indices
	line int    // 1-based
}

func (ix *lineIndex) set(path string, line int) {
	if _, ok := ix.lines[path]; !ok {
		ix.lines[path] = line
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
	var inString string        // `"""` or `'''` while inside a multi-line string
	depth := 0                 // bracket depth of a multi-line array value
	rows := strings.Split(text, "\n")
	ix.total = len(rows)
	for i, raw := range rows {
		n := i + 1
		line := strings.TrimSpace(raw)
		if inString != "" {
			if strings.Contains(line, inString) {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDepth(line)
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		switch {
		case strings.HasPrefix(line, "[["):
			end := strings.Index(line, "]]")
			if end < 0 {
				continue
			}
			p := keyPath(line[2:end])
			counts[p]++
			current = withIndices(p, counts)
			ix.set(current, n)
			ix.set(p, n)
			ix.headers = append(ix.headers, header{p, n})
		case line[0] == '[':
			end := strings.Index(line, "]")
			if end < 0 {
				continue
			}
			p := keyPath(line[1:end])
			current = withIndices(p, counts)
			ix.set(current, n)
			ix.set(p, n)
			ix.headers = append(ix.headers, header{p, n})
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
			ix.set(full, n)
			ix.set(stripIndices(full), n)
			val := strings.TrimSpace(line[eq+1:])
			for _, q := range []string{`"""`, `'''`} {
				if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
					inString = q
				}
			}
			if strings.HasPrefix(val, "[") {
				depth = bracketDepth(val)
			}
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

// keyEnd finds the '=' that ends the key part of a key/value line.
func keyEnd(line string) int {
	var quote rune
	for i, r := range line {
		switch {
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
func keyPath(s string) string {
	var parts []string
	var cur strings.Builder
	var quote rune
	for _, r := range strings.TrimSpace(s) {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case r == ' ' || r == '\t':
		default:
			cur.WriteRune(r)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return strings.Join(parts, ".")
}

// bracketDepth counts [ minus ] outside strings and comments.
func bracketDepth(s string) int {
	d := 0
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#':
			return d
		case r == '[':
			d++
		case r == ']':
			d--
		}
	}
	return d
}
