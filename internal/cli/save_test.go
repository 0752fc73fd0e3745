package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestLayoutSaveKeepsTheFile: perch layout save writes through a symlink,
// keeps the file's mode and group, refuses a read-only file, and syncs the
// file before the rename and the directory after it.
func TestLayoutSaveKeepsTheFile(t *testing.T) {
	vars := needX(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "perch.toml")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(twoScreens), 0o640); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		if err := os.Chown(real, 0, 65534); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.Stat(real)
	link := filepath.Join(dir, "config.toml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if r := perch(t, vars, "layout", "apply", "desk", "--config", link); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := perch(t, vars, "layout", "save", "kitchen", "--config", link); r.code != 0 {
		t.Fatalf("save through a link: %d %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(real)
	if !strings.Contains(string(b), "[profile.kitchen]") {
		t.Errorf("the linked file was not updated:\n%s", b)
	}
	after, _ := os.Stat(real)
	if after.Mode() != before.Mode() || after.Sys().(*syscall.Stat_t).Gid != before.Sys().(*syscall.Stat_t).Gid ||
		after.Sys().(*syscall.Stat_t).Uid != before.Sys().(*syscall.Stat_t).Uid {
		t.Errorf("mode/owner %v %d:%d → %v %d:%d", before.Mode(), before.Sys().(*syscall.Stat_t).Uid, before.Sys().(*syscall.Stat_t).Gid,
			after.Mode(), after.Sys().(*syscall.Stat_t).Uid, after.Sys().(*syscall.Stat_t).Gid)
	}
	// A read-only file is refused, unchanged.
	if err := os.Chmod(real, 0o440); err != nil {
		t.Fatal(err)
	}
	r := perch(t, vars, "layout", "save", "attic", "--config", link)
	want := real + ": the file is read-only (mode 0440): nothing saved; chmod u+w " + real + " to save into it"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("read-only: %d %q; want %q", r.code, r.stderr, want)
	}
	if b2, _ := os.ReadFile(real); string(b2) != string(b) {
		t.Error("a read-only file was changed")
	}
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	// The order of the system calls, as strace sees them in the real
	// binary: the new file synced, renamed, then its directory synced.
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("strace (scripts/deps.sh) is needed: %v", err)
	}
	trace := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, "-f", "-o", trace, "-e", "trace=fsync,rename,renameat,renameat2", buildPerch(t), "layout", "save", "porch", "--config", link)
	cmd.Env = append(os.Environ(), "DISPLAY="+vars["DISPLAY"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace perch layout save: %v\n%s", err, out)
	}
	tb, _ := os.ReadFile(trace)
	calls := regexp.MustCompile(`(?m)\b(fsync|rename\w*)\(`).FindAllStringSubmatch(string(tb), -1)
	var seq []string
	for _, c := range calls {
		seq = append(seq, c[1])
	}
	if got := strings.Join(seq, " "); !regexp.MustCompile(`fsync rename\w* fsync$`).MatchString(got) {
		t.Errorf("system calls %q; want fsync, rename, fsync\n%s", got, tb)
	}
}
