// Package sandbox starts a private set of real servers for perch to run
// against: Xorg with the dummy driver (RandR outputs DUMMY0..DUMMY15), an
// OpenSSH sshd on loopback with throwaway keys, and xpra servers running
// small X programs. `perch demo` runs perch's main job on it; the test bed
// (internal/testrig/testbed) builds its servers on it. Every server lives
// in a private directory that Close removes.
package sandbox

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/sys/xauth"
)

// Display is a running X server.
type Display struct {
	Name       string // ":N"
	Num        int
	Dir        string // private directory: config, log, auth file
	XAuthority string // file with the server's cookie
	Cookie     []byte // the MIT-MAGIC-COOKIE-1 the server requires
	Log        string

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Env returns DISPLAY and XAUTHORITY for a client of this server.
func (d *Display) Env() []string {
	return []string{"DISPLAY=" + d.Name, "XAUTHORITY=" + d.XAuthority}
}

// Setenv points this process's DISPLAY and XAUTHORITY at the server.
func (d *Display) Setenv() {
	os.Setenv("DISPLAY", d.Name)
	os.Setenv("XAUTHORITY", d.XAuthority)
}

// Close stops the server and removes its directory.
func (d *Display) Close() error {
	var err error
	d.once.Do(func() {
		if d.cmd.Process != nil {
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(5 * time.Second):
				_ = d.cmd.Process.Kill()
				<-d.done
			}
		}
		err = os.RemoveAll(d.Dir)
	})
	return err
}

const xorgConf = `Section "ServerFlags"
  Option "DontVTSwitch" "true"
  Option "AllowMouseOpenFail" "true"
  Option "PciForceNone" "true"
  Option "AutoEnableDevices" "false"
  Option "AutoAddDevices" "false"
EndSection
Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam 256000
EndSection
Section "Monitor"
  Identifier "monitor"
  HorizSync 5.0-1000.0
  VertRefresh 5.0-200.0
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  Monitor "monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual 8192 4096
  EndSubSection
EndSection
`

// XorgOptions tunes StartXorg.
type XorgOptions struct {
	// Connected is how many outputs (DUMMY0 first) report "connected" at
	// start; the dummy driver marks an output connected once it has been
	// used. 0 means 3.
	Connected int
}

// StartXorg starts Xorg with the dummy driver on a free display, requiring
// a fresh cookie, and makes the first opts.Connected outputs connected.
func StartXorg(ctx context.Context, opts XorgOptions) (*Display, error) {
	xorg, err := FindBinary("Xorg", "/usr/lib/xorg/Xorg")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat("/usr/lib/xorg/modules/drivers/dummy_drv.so"); err != nil {
		return nil, fmt.Errorf("the Xorg dummy driver is not installed (package xserver-xorg-video-dummy)")
	}
	dir, err := os.MkdirTemp("", "perch-xorg-")
	if err != nil {
		return nil, fmt.Errorf("create the Xorg directory: %w", err)
	}
	conf := filepath.Join(dir, "xorg.conf")
	if err := os.WriteFile(conf, []byte(xorgConf), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("write the Xorg configuration: %w", err)
	}
	d, err := StartX(ctx, dir, xorg, "-config", conf, "-configdir", filepath.Join(dir, "conf.d"),
		"-noreset", "-nolisten", "tcp", "-novtswitch", "-sharevts", "-logfile", filepath.Join(dir, "Xorg.log"))
	if err != nil {
		return nil, err
	}
	if opts.Connected == 0 {
		opts.Connected = 3
	}
	for i := 1; i < opts.Connected; i++ {
		if err := d.ConnectOutput(fmt.Sprintf("DUMMY%d", i)); err != nil {
			d.Close()
			return nil, fmt.Errorf("prepare output DUMMY%d: %w", i, err)
		}
	}
	return d, nil
}

var (
	cookieOnce sync.Once
	cookie     []byte
)

// StartX starts the X server bin with args on a display it picks itself
// (-displayfd), requiring the process's cookie (see Display.Cookie), and
// returns once the server reports its display. The Display owns dir, where
// it keeps its log and auth file, and removes it on Close.
func StartX(ctx context.Context, dir, bin string, args ...string) (*Display, error) {
	d := &Display{Dir: dir, XAuthority: filepath.Join(dir, "Xauthority"), Log: filepath.Join(dir, "server.out"), done: make(chan struct{})}
	// Every display of one process shares a cookie, so that one
	// XAUTHORITY file serves clients of all of them.
	cookieOnce.Do(func() {
		cookie = make([]byte, 16)
		_, _ = rand.Read(cookie)
	})
	d.Cookie = cookie
	// Number "" matches any display: the server picks its number itself.
	auth := xauth.Marshal([]xauth.Entry{{Family: xauth.FamilyWild, Name: "MIT-MAGIC-COOKIE-1", Data: d.Cookie}})
	if err := os.WriteFile(d.XAuthority, auth, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("write the X server's XAUTHORITY: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	defer pr.Close()
	logf, err := os.Create(d.Log)
	if err != nil {
		pw.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create the X server's log: %w", err)
	}
	defer logf.Close()
	args = append(args, "-auth", d.XAuthority, "-displayfd", "3")
	d.cmd = exec.Command(bin, args...)
	d.cmd.ExtraFiles = []*os.File{pw}
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Dir = dir
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		pw.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	pw.Close()
	go func() { _ = d.cmd.Wait(); close(d.done) }()

	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case s := <-num:
		n, err := strconv.Atoi(s)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("%s did not start (see its log): %s", bin, Tail(d.Log))
		}
		d.Num, d.Name = n, ":"+s
	case <-time.After(20 * time.Second):
		d.Close()
		return nil, fmt.Errorf("%s did not report a display within 20s: %s", bin, Tail(d.Log))
	case <-ctx.Done():
		d.Close()
		return nil, fmt.Errorf("start %s: %w", bin, ctx.Err())
	}
	return d, nil
}

// FindBinary returns the path of the first of names found in PATH (or
// given as a path), or an error naming the first.
func FindBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", names[0])
}

// Tail returns the end of a server's log, for an error message.
func Tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 1500 {
		s = s[len(s)-1500:]
	}
	if s == "" {
		return "(empty log)"
	}
	return s
}
