package sshconf

import (
	"errors"
	"strings"
)

// splitArgs splits a line's arguments as OpenSSH's argv_split does with
// comments on: whitespace separates, double or single quotes group, a
// backslash escapes a quote, a backslash or a space, and an unquoted '#' at
// the start of an argument ends the line.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, inArg = c, true
		case c == '\\' && i+1 < len(s) && strings.IndexByte(`"'\ `, s[i+1]) >= 0 && (quote == 0 || s[i+1] == quote || s[i+1] == '\\'):
			i++
			cur.WriteByte(s[i])
			inArg = true
		case quote == 0 && (c == ' ' || c == '\t'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case quote == 0 && c == '#' && !inArg:
			i = len(s)
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

const whitespace = " \t\r\n"

// strdelim is OpenSSH's strdelim: the next word of *s, ending at
// whitespace, a double quote (a quoted word runs to the next quote) or one
// '='. ok is false for an unterminated quote.
func strdelim(s *string) (word string, ok bool) {
	old := *s
	i := strings.IndexAny(old, whitespace+`"=`)
	if i < 0 {
		*s = ""
		return old, true
	}
	if old[i] == '"' {
		rest := old[:i] + old[i+1:]
		j := strings.IndexByte(rest[i:], '"')
		if j < 0 {
			*s = ""
			return "", false
		}
		j += i
		word = rest[:j]
		*s = strings.TrimLeft(rest[j+1:], whitespace)
		return word, true
	}
	eq := old[i] == '='
	word = old[:i]
	rest := strings.TrimLeft(old[i+1:], whitespace)
	if !eq && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], whitespace)
	}
	*s = rest
	return word, true
}

// matchPattern is OpenSSH's match_pattern: '*' matches any run of bytes,
// '?' exactly one; case-sensitive.
func matchPattern(s, pattern string) bool {
	for {
		if pattern == "" {
			return s == ""
		}
		if pattern[0] == '*' {
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i < len(s); i++ {
				if (pattern[0] == '?' || pattern[0] == s[i]) && matchPattern(s[i:], pattern) {
					return true
				}
			}
			return false
		}
		if s == "" || (pattern[0] != '?' && pattern[0] != s[0]) {
			return false
		}
		s, pattern = s[1:], pattern[1:]
	}
}

// matchPatternList is OpenSSH's match_pattern_list: pattern is a
// comma-separated list, each entry possibly negated with '!'. It returns
// 1 for a positive match, -1 for a negated one (which wins), 0 for none.
// With lower, the patterns are lower-cased first (not s).
func matchPatternList(s, list string, lower bool) int {
	got := 0
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if lower {
			p = strings.ToLower(p)
		}
		if matchGlob(s, p) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// MatchHostname is OpenSSH's match_hostname: the host lower-cased against
// a lower-cased pattern list.
func MatchHostname(host, list string) int {
	return matchPatternList(strings.ToLower(host), list, true)
}
