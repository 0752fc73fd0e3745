package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/perchdesk/perch/internal/sys/fileperm"
)

// SystemPaths returns the system configuration files, least important
// first: perch/config.toml in each directory of $XDG_CONFIG_DIRS (default
// /etc/xdg), whose first directory is the most important (XDG base
// directory rules: relative entries are ignored).
func SystemPaths() []string {
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	var paths []string
	for _, d := range strings.Split(dirs, ":") {
		if filepath.IsAbs(d) {
			paths = append(paths, filepath.Join(d, "perch", "config.toml"))
		}
	}
	slices.Reverse(paths)
	return paths
}

// onTop is a copy of c for the file at path to go on top of: the maps
// are new, the servers and profiles shared (they are not changed, only
// replaced). A nil c gives an empty configuration.
func (c *Config) onTop(path string) *Config {
	n := &Config{Path: path, Profiles: map[string]*Profile{}, Servers: map[string]*Server{}, Origins: map[string]string{}}
	if c != nil {
		n.Default, n.Location, n.Order, n.Warnings = c.Default, c.Location, slices.Clone(c.Order), slices.Clone(c.Warnings)
		maps.Copy(n.Profiles, c.Profiles)
		maps.Copy(n.Servers, c.Servers)
		maps.Copy(n.Origins, c.Origins)
		n.Files = slices.Clone(c.Files)
	}
	n.Files = append(n.Files, path)
	return n
}

// loadFiles reads the system files, least important first, then the
// user's file at path on top. A missing system file is skipped; a
// missing user file is fine when the system files define a server or a
// profile (the administrator's configuration is the user's).
func loadFiles(system []string, path string) (*Config, error) {
	var base *Config
	for _, sp := range system {
		data, err := readSystem(sp)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if base, err = parseOn(base, sp, data); err != nil {
			return nil, err
		}
	}
	data, err := fileperm.ReadFile(path)
	if err != nil {
		var pe *fileperm.Error
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Msg: pe.Err.Error()}
		}
		if errors.Is(err, os.ErrNotExist) {
			if base != nil && len(base.Profiles)+len(base.Servers) > 0 {
				base.Path = path
				return base, nil
			}
			return nil, fmt.Errorf("%w: %s does not exist; copy assets/config.example.toml there, "+
				"or run `perch layout save NAME` to start one from the current layout: %w", ErrNoFile, path, ErrInvalid)
		}
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return parseOn(base, path, data)
}

// readSystem reads a system configuration file when it can be trusted:
// root owns it and every directory above it, and nobody else may write
// any of them (a directory others may write is fine only with the sticky
// bit, as /tmp: nobody can then replace root's entries in it). Otherwise
// it says so, as an *Error naming the file.
func readSystem(path string) ([]byte, error) {
	cannot := func(err error) error {
		return &Error{File: path, Msg: fmt.Sprintf("cannot read the system configuration: %v", err)}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, cannot(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, cannot(err)
	}
	refuse := func(what, why string) error {
		return &Error{File: path, Msg: fmt.Sprintf("the system configuration is not trusted: %s %s "+
			"(root must own it and the directories above it, and nobody else write them); fix: chown root %s && chmod go-w %s", what, why, what, what)}
	}
	if why := untrusted(fi, false); why != "" {
		return nil, refuse(path, why)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, cannot(err)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			return nil, cannot(err)
		}
		if why := untrusted(di, true); why != "" {
			return nil, refuse(dir, why)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, cannot(err)
	}
	return data, nil
}

// untrusted says why a system file or directory could be changed by
// someone other than root ("" when it cannot).
func untrusted(fi fs.FileInfo, dir bool) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "has no owner to check"
	}
	if st.Uid != 0 {
		return fmt.Sprintf("is owned by uid %d, not root", st.Uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && !(dir && fi.Mode()&fs.ModeSticky != 0) {
		return fmt.Sprintf("is writable by others than root (mode %04o)", uint32(perm))
	}
	return ""
}
