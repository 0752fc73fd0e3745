// Package fileperm refuses a file that another user could have written,
// as OpenSSH refuses such a configuration ("Bad owner or permissions"):
// perch runs the commands such files name, as the user.
package fileperm

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Check returns an error, saying how to fix it, when fi (the file at path,
// after links) is owned by a user other than the current one and root, or
// is writable by its group or by others. The rule is OpenSSH's.
func Check(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("bad owner or permissions: cannot read the owner of %s", path)
	}
	me := os.Getuid()
	if owner := int(st.Uid); owner != me && owner != 0 {
		return fmt.Errorf("bad owner or permissions: owned by %s, not by you (%s): another user could change it; fix: chown %s %s",
			userName(owner), userName(me), userName(me), path)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		who := "its group"
		switch {
		case perm&0o022 == 0o022:
			who = "its group and others"
		case perm&0o002 != 0:
			who = "others"
		}
		return fmt.Errorf("bad owner or permissions: writable by %s (mode %04o); fix: chmod go-w %s", who, uint32(perm), path)
	}
	return nil
}

// ReadFile reads the file at path when Check accepts it (checked on the
// file opened, so that it cannot be swapped in between).
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := Check(path, fi); err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return io.ReadAll(f)
}

// Error is a file refused by Check.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}
