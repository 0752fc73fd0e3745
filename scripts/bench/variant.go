package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/perchdesk/perch/internal/testrig/testbed"
)

// variant is what -xpra6 and -client choose for the session comparisons
// (cold, recovery, xlocal): xpra 6.5.3 on both ends (the servers, the
// login's xpra through its PATH, and the xpra this machine runs: its wrap
// directory goes first on this process's PATH), and perch's client mode.
var variant struct {
	xpra6  bool
	client string // "remote" (default) or "local"
}

// setVariant applies -xpra6: PATH for this process and what it starts.
func setVariant() error {
	if variant.client == "" {
		variant.client = "remote"
	}
	if variant.client != "remote" && variant.client != "local" {
		return fmt.Errorf("-client %q: want remote or local", variant.client)
	}
	if !variant.xpra6 {
		return nil
	}
	bin, err := testbed.Xpra6()
	if err != nil {
		return err
	}
	// xpra 6 draws a header bar of its own at the top of each window
	// (headerbar=auto), where the animation's frame counter is read.
	quietXpra = append(quietXpra, variantArgs()...)
	return os.Setenv("PATH", filepath.Dir(bin)+":"+os.Getenv("PATH"))
}

// variantArgs are the xpra options every client of the variant gets
// (remote mode through xpra_args): --headerbar=no for xpra 6.
func variantArgs() []string {
	if variant.xpra6 {
		return []string{"--headerbar=no"}
	}
	return nil
}

// xpraBinary is the servers' xpra: "" (Debian's, on PATH) or 6.5.3's.
func xpraBinary() string {
	if !variant.xpra6 {
		return ""
	}
	bin, _ := testbed.Xpra6()
	return bin
}

// loginPath is the PATH of the bed's sshd login: 6.5.3's wrap first with
// -xpra6, else sshd's default ("").
func loginPath() string {
	if bin := xpraBinary(); bin != "" {
		return filepath.Dir(bin) + ":/usr/local/bin:/usr/bin:/bin"
	}
	return ""
}

// variantNote says which variant a section measured, for its title.
func variantNote() string {
	v := ""
	if variant.xpra6 {
		v = " — xpra 6.5.3 on both ends"
	}
	if variant.client == "local" {
		v += `, client = "local"`
		if !variant.xpra6 {
			v = ` — client = "local"`
		}
	}
	return v
}
