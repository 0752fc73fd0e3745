// Package testbed starts the real servers perch's tests, benchmarks and
// `perch demo` run against: Xorg with the dummy driver (RandR outputs
// DUMMY0..DUMMY15), Xvfb, an OpenSSH sshd with throwaway keys and xpra
// servers. A test package shares one bed through TestMain.
//
// Outside CI a missing server makes the integration tests skip with a loud
// message; in CI (CI=true) it is a failure, so a missing install step can
// never pass unnoticed.
package testbed

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/xauth"
)

// InCI reports whether the tests run in CI, where integration tests must run.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable is what a TestMain calls when the bed cannot start: in CI it
// prints the reason and exits 1; elsewhere it prints a loud warning and
// returns, and the tests that need the bed skip.
func Unavailable(what string, err error) {
	if InCI() {
		fmt.Fprintf(os.Stderr, "FATAL: CI=true but the test bed's %s cannot start: %v\n", what, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "\n!!!!!!!!\n!!! SKIPPING the integration tests that need %s: %v\n"+
		"!!! run `make deps` (as root) to install the servers, or see README.md\n!!!!!!!!\n\n", what, err)
}

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
func StartXorg(opts XorgOptions) (*Display, error) {
	xorg, err := findBinary("Xorg", "/usr/lib/xorg/Xorg")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat("/usr/lib/xorg/modules/drivers/dummy_drv.so"); err != nil {
		return nil, fmt.Errorf("the Xorg dummy driver is not installed (package xserver-xorg-video-dummy)")
	}
	dir, err := os.MkdirTemp("", "perch-xorg-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "xorg.conf")
	if err := os.WriteFile(conf, []byte(xorgConf), 0o600); err != nil {
		return nil, err
	}
	d, err := startX(dir, xorg, "-config", conf, "-configdir", filepath.Join(dir, "conf.d"),
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

// StartXvfb starts Xvfb with one screen of the given size ("1920x1080x24")
// and any extra server options (e.g. "-extension", "MIT-SHM").
func StartXvfb(screen string, extra ...string) (*Display, error) {
	xvfb, err := findBinary("Xvfb")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "perch-xvfb-")
	if err != nil {
		return nil, err
	}
	return startX(dir, xvfb, append([]string{"-screen", "0", screen, "-nolisten", "tcp", "-noreset", "+extension", "RANDR"}, extra...)...)
}

var (
	cookieOnce sync.Once
	cookie     []byte
)

func startX(dir, bin string, args ...string) (*Display, error) {
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
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	logf, err := os.Create(d.Log)
	if err != nil {
		pw.Close()
		return nil, err
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
			return nil, fmt.Errorf("%s did not start (see its log): %s", bin, tail(d.Log))
		}
		d.Num, d.Name = n, ":"+s
	case <-time.After(20 * time.Second):
		d.Close()
		return nil, fmt.Errorf("%s did not report a display within 20s: %s", bin, tail(d.Log))
	}
	return d, nil
}

func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", names[0])
}

func tail(path string) string {
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

// ErrNoDisplay is returned by helpers called on a bed without a server.
var ErrNoDisplay = errors.New("no test display")
