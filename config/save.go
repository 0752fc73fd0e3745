package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf8"
)

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(s string) string {
	if bareKey.MatchString(s) {
		return s
	}
	return tomlQuote(s)
}

// tomlQuote writes s as a TOML basic string. Go's %q is not TOML: it
// writes \v, \a and \x.. escapes that TOML does not have.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// RenderProfile writes a profile's layout part as TOML.
func RenderProfile(p *Profile) string {
	var b strings.Builder
	key := "profile." + tomlKey(p.Name)
	fmt.Fprintf(&b, "[%s]\n", key)
	if len(p.Match) > 0 {
		q := make([]string, len(p.Match))
		for i, m := range p.Match {
			q[i] = tomlQuote(m)
		}
		fmt.Fprintf(&b, "match = [%s]\n", strings.Join(q, ", "))
	}
	for _, o := range p.Outputs {
		fmt.Fprintf(&b, "[[%s.output]]\n", key)
		fmt.Fprintf(&b, "name = %s\n", tomlQuote(o.Name))
		if o.Mode != "" {
			fmt.Fprintf(&b, "mode = %s\n", tomlQuote(o.Mode))
		}
		for _, kv := range [][2]string{{"pos", o.Pos}, {"right-of", o.RightOf}, {"left-of", o.LeftOf}, {"above", o.Above}, {"below", o.Below}, {"rotate", o.Rotate}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "%s = %s\n", kv[0], tomlQuote(kv[1]))
			}
		}
		if o.Primary {
			b.WriteString("primary = true\n")
		}
		if o.Force {
			b.WriteString("force = true\n")
		}
	}
	return b.String()
}

// SaveProfile adds profile p to the configuration file at path, leaving the
// rest of the file as it was, comments included. A profile of the same name
// is an error unless force, which replaces its tables. The file is created
// if missing; the result is validated before it is written (atomically).
func SaveProfile(path string, p *Profile, force bool) error {
	if err := checkSavable(path, p); err != nil {
		return err
	}
	t, err := readSaveTarget(path)
	if err != nil {
		return err
	}
	text := string(t.old)
	if len(t.old) > 0 {
		if text, err = withoutProfile(t.path, t.old, p.Name, force); err != nil {
			return err
		}
	}
	text = strings.TrimRight(text, "\n")
	if text != "" {
		text += "\n\n"
	}
	text += RenderProfile(p)
	if _, err := Parse(t.path, []byte(text)); err != nil {
		return fmt.Errorf("the saved profile would not load (a bug in perch; the file is unchanged): %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o755); err != nil {
		return fmt.Errorf("create the configuration directory: %w", err)
	}
	return writeFileSynced(t.path, []byte(text), t.mode, t.owner)
}

// checkSavable refuses a profile that cannot be saved: one named "" or
// "auto", one with no output, or one holding text that is not UTF-8.
func checkSavable(path string, p *Profile) error {
	if p.Name == "" || p.Name == Auto {
		return &Error{File: path, Msg: fmt.Sprintf("cannot save a profile named %q", p.Name)}
	}
	if len(p.Outputs) == 0 {
		return fmt.Errorf("no output is on: there is no layout to save")
	}
	// A TOML file holds UTF-8 only: other bytes would come back as other names.
	texts := append([]string{p.Name}, p.Match...)
	for _, o := range p.Outputs {
		texts = append(texts, o.Name, o.Mode, o.Pos, o.RightOf, o.LeftOf, o.Above, o.Below, o.Rotate)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			return &Error{File: path, Msg: fmt.Sprintf("cannot save %q: a configuration file holds UTF-8 text only", s)}
		}
	}
	return nil
}

// saveTarget is the file a save writes: where a symlink points, its text
// ("" when missing) and the mode and owner the new file keeps.
type saveTarget struct {
	path  string
	old   []byte
	mode  os.FileMode
	owner *syscall.Stat_t // nil: the file is new, or its owner unknown
}

// readSaveTarget follows path's symlinks and reads the file there, refusing
// a read-only one. A missing file gets mode 0644.
func readSaveTarget(path string) (saveTarget, error) {
	// A symlinked configuration is written where the link points.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	t := saveTarget{path: path, mode: 0o644}
	var err error
	t.old, err = os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return t, fmt.Errorf("read configuration: %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		t.mode = fi.Mode().Perm()
		if t.mode&0o200 == 0 {
			return t, &Error{File: path, Msg: fmt.Sprintf("the file is read-only (mode %04o): nothing saved; chmod u+w %s to save into it", uint32(t.mode), path)}
		}
		t.owner, _ = fi.Sys().(*syscall.Stat_t)
	}
	return t, nil
}

// withoutProfile checks the existing configuration old and returns its text
// without the tables of profile name. A profile of that name is an error
// unless force, and so is one not written as [profile.NAME] tables.
func withoutProfile(path string, old []byte, name string, force bool) (string, error) {
	c, err := Parse(path, old)
	if err != nil {
		return "", fmt.Errorf("the configuration must be valid before a profile is saved into it: %w", err)
	}
	text := string(old)
	rows := strings.Split(text, "\n")
	blocks := profileBlocks(indexLines(text), rows, name)
	prefix := "profile." + name
	if prev := c.Profiles[name]; prev != nil && !force {
		return "", &Error{File: path, Line: prev.Line, Key: prefix,
			Msg: fmt.Sprintf("profile %s already exists; pass --force to replace it", name)}
	}
	if c.Profiles[name] != nil && len(blocks) == 0 {
		// Defined with dotted keys or inline tables: no block to replace.
		return "", &Error{File: path, Line: c.Profiles[name].Line, Key: prefix,
			Msg: fmt.Sprintf("profile %s is not written as [%s] tables, so it cannot be replaced; edit it by hand", name, prefix)}
	}
	if len(blocks) == 0 {
		return text, nil
	}
	drop := map[int]bool{}
	for _, bl := range blocks {
		for l := bl[0]; l <= bl[1]; l++ {
			drop[l-1] = true
		}
	}
	var kept []string
	for i, r := range rows {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	return strings.Join(kept, "\n"), nil
}

// profileBlocks returns the lines of profile name's tables in the file
// (rows, indexed by ix), each as [first line, last line], 1-based and
// inclusive. Comments and blank lines just before the next table stay
// with that table.
func profileBlocks(ix *lineIndex, rows []string, name string) [][2]int {
	var blocks [][2]int
	for i, h := range ix.headers {
		// By parts: [profile."a.b"] is not a table of profile a.
		if len(h.segs) < 2 || h.segs[0] != "profile" || h.segs[1] != name {
			continue
		}
		end := ix.total
		if i+1 < len(ix.headers) {
			end = ix.headers[i+1].line - 1
		}
		// Comments and blank lines just before the next table are its own.
		for end > h.line && end <= len(rows) {
			r := strings.TrimSpace(rows[end-1])
			if r != "" && r[0] != '#' {
				break
			}
			end--
		}
		blocks = append(blocks, [2]int{h.line, end})
	}
	return blocks
}

// writeFileSynced replaces the file at path with data atomically: a
// temporary file with the mode and owner given (owner nil: the user's),
// synced, renamed over path, and the directory synced, so that a crash
// leaves the old file or the new one.
func writeFileSynced(path string, data []byte, mode os.FileMode, owner *syscall.Stat_t) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = func() error {
		defer tmp.Close()
		if _, err := tmp.Write(data); err != nil {
			return err
		}
		if err := tmp.Chmod(mode); err != nil {
			return err
		}
		if owner != nil && (int(owner.Uid) != os.Getuid() || int(owner.Gid) != os.Getgid()) {
			if err := tmp.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
				return fmt.Errorf("keep the file's owner (uid %d, gid %d): %w; nothing saved", owner.Uid, owner.Gid, err)
			}
		}
		if err := tmp.Sync(); err != nil {
			return err
		}
		return tmp.Close()
	}()
	if err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	if err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	return nil
}
