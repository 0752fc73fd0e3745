package testbed

import (
	"os"
	"path/filepath"
	"slices"
)

// PathWithout makes dir a directory of links to every program of
// /usr/local/bin and /usr/bin except those named, and returns it as a PATH:
// a login whose PATH it is has no such program (xpra, xauth), as on a
// server where it is not installed.
func PathWithout(dir string, names ...string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, from := range []string{"/usr/local/bin", "/usr/bin"} {
		entries, err := os.ReadDir(from)
		if err != nil {
			continue
		}
		for _, e := range entries {
			link := filepath.Join(dir, e.Name())
			if slices.Contains(names, e.Name()) || exists(link) {
				continue
			}
			if err := os.Symlink(filepath.Join(from, e.Name()), link); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}
