package testbed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perchdesk/perch/internal/sandbox"
)

// Netns is a network namespace of the test bed's own behind a veth pair,
// made with iproute2 (needs root): the host end HostDev (HostAddr) stays in
// this process's namespace, the other end NSDev (NSAddr) is the
// namespace's only interface besides its loopback. The two addresses are a
// /30 out of private ranges that nothing on the machine uses; nothing is
// routed beyond them, so traffic to the namespace stays on the pair.
// Command runs a program inside the namespace (SSHDOptions.Netns starts an
// sshd there).
//
// Cut takes the namespace's end of the pair down, as a pulled cable:
// packets either way are dropped without a reset, so established TCP
// connections stall (and come back after Restore, if the peers have not
// given up), and new connections hang in SYN retransmits. Taking the host
// end down would instead remove the host's route to the /30, and packets
// for NSAddr would leave through the default route; Cut checks that this
// does not happen (the kernel keeps using a route whose link is down unless
// net.ipv4.conf.*.ignore_routes_with_linkdown is set).
type Netns struct {
	Name     string // the namespace, "perch-test-N"
	HostDev  string // the host's end of the veth pair
	NSDev    string // the namespace's end
	HostAddr string // HostDev's address, e.g. "10.213.4.1"
	NSAddr   string // NSDev's address, e.g. "10.213.4.2"

	ip   string
	lock *os.File // held from before the namespace exists until Close: see ownBlock

	mu     sync.Mutex
	cut    bool
	closed bool
}

// NetnsSupported tells whether NewNetns can work here: it needs root and
// iproute2's ip.
func NetnsSupported() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := findBinary("ip", "/usr/sbin/ip", "/sbin/ip"); err != nil {
		return errors.New("iproute2's ip is not installed (package iproute2)")
	}
	return nil
}

// netnsRanges are where NewNetns looks for a free /30.
var netnsRanges = []netip.Prefix{
	netip.MustParsePrefix("10.213.0.0/16"),
	netip.MustParsePrefix("172.29.213.0/24"),
	netip.MustParsePrefix("192.168.213.0/24"),
}

// NewNetns creates the namespace, the veth pair and the addresses, with
// the pair and the namespace's loopback up. On error nothing is left
// behind. Close removes everything.
func NewNetns() (*Netns, error) {
	if err := NetnsSupported(); err != nil {
		return nil, err
	}
	ip, _ := findBinary("ip", "/usr/sbin/ip", "/sbin/ip")
	if err := reapStale(ip); err != nil {
		return nil, err
	}
	used, err := usedPrefixes(ip)
	if err != nil {
		return nil, err
	}
	// Every /30 of the ranges has an index; the namespace is named after
	// it, and `ip netns add` failing on an existing name reserves the block
	// among test processes running in parallel.
	type block struct {
		p  netip.Prefix
		id int // unique over netnsRanges: names the namespace and the pair
	}
	var blocks []block
	for ri, r := range netnsRanges {
		n := 1 << (30 - r.Bits())
		base := r.Addr().As4()
		b0 := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		start := rand.IntN(n)
		for i := range n {
			k := (start + i) % n
			v := b0 + uint32(k)*4
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 30)
			blocks = append(blocks, block{p, ri<<16 | k})
		}
	}
	tried := 0
	for _, b := range blocks {
		if overlapsAny(b.p, used) {
			continue
		}
		if tried++; tried > 64 {
			break
		}
		a := b.p.Addr().As4()
		n := netnsFor(ip, b.id)
		n.HostAddr = netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3] + 1}).String()
		n.NSAddr = netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3] + 2}).String()
		owned, err := n.ownBlock(true)
		if err != nil {
			return nil, err
		}
		if !owned {
			continue // another test process holds this block
		}
		unlock := noteNetnsAdded()
		out, err := n.run("netns", "add", n.Name)
		unlock()
		if err != nil {
			noteNetnsGone()
			n.releaseBlock()
			if strings.Contains(out, "exists") {
				continue // made since reapStale looked, by a process without the lock
			}
			return nil, fmt.Errorf("ip netns add %s: %v: %s", n.Name, err, out)
		}
		if err := n.setup(); err != nil {
			if cerr := n.Close(); cerr != nil {
				err = fmt.Errorf("%w (and cleaning up: %v)", err, cerr)
			}
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("no free /30 for a network namespace in %v", netnsRanges)
}

// netnsFor is the namespace of block id, without its addresses.
func netnsFor(ip string, id int) *Netns {
	return &Netns{
		Name:    fmt.Sprintf("perch-test-%d", id),
		HostDev: fmt.Sprintf("pch%dh", id),
		NSDev:   fmt.Sprintf("pch%dn", id),
		ip:      ip,
	}
}

// netnsLockDir holds one lock file per namespace in use. A test process
// takes its block's lock before `ip netns add` and holds it until Close;
// the kernel releases it when the process dies, however it dies, so a
// namespace whose lock can be taken was left by a process that did not get
// to Close (kill -9, a crash) and reapStale removes it.
// The directory is fixed and root's (namespaces need root): every test
// process on the machine, whatever its TMPDIR, must agree on it.
const netnsLockDir = "/run/perch-testbed-netns"

// ownBlock takes n's lock; false when another process holds it, or, unless
// create, when there is no lock file (a namespace of unknown origin, which
// reapStale leaves alone).
func (n *Netns) ownBlock(create bool) (bool, error) {
	if err := os.MkdirAll(netnsLockDir, 0o700); err != nil {
		return false, fmt.Errorf("network namespace locks: %w", err)
	}
	path := filepath.Join(netnsLockDir, n.Name+".lock")
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	for {
		f, err := os.OpenFile(path, flags, 0o600)
		if !create && errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("network namespace locks: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return false, nil
			}
			return false, fmt.Errorf("network namespace locks: lock %s: %w", path, err)
		}
		// The holder removes the file before it lets go (releaseBlock):
		// a lock on a file no longer at path is no lock; open it anew.
		fi, err1 := f.Stat()
		pi, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			n.lock = f
			return true, nil
		}
		f.Close()
	}
}

// releaseBlock drops n's lock and its file.
func (n *Netns) releaseBlock() {
	if n.lock != nil {
		os.Remove(n.lock.Name())
		n.lock.Close()
		n.lock = nil
	}
}

var staleName = regexp.MustCompile(`^perch-test-(\d+)$`)

// reapStale removes the namespaces (with their veth pairs and whatever
// runs inside) that test processes made and did not remove. One it cannot
// remove is reported on stderr and left: NewNetns picks another block.
func reapStale(ip string) error {
	cmd := exec.Command(ip, "netns", "list")
	cmd.Env = sandbox.MinimalEnv()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ip netns list: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := staleName.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		n := netnsFor(ip, id)
		owned, err := n.ownBlock(false)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
			continue
		}
		if !owned {
			continue // in use, or not made by a test bed that locks
		}
		if err := n.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testbed: remove the stale network namespace %s: %v\n", n.Name, err)
		}
	}
	return nil
}

// setup makes the pair, once the namespace exists.
func (n *Netns) setup() error {
	steps := [][]string{
		// The namespace's end is created inside it: its name cannot clash.
		{"link", "add", n.HostDev, "type", "veth", "peer", "name", n.NSDev, "netns", n.Name},
		{"addr", "add", n.HostAddr + "/30", "dev", n.HostDev},
		{"-n", n.Name, "addr", "add", n.NSAddr + "/30", "dev", n.NSDev},
		{"-n", n.Name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := n.run(s...); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	// No IPv6 link-local addresses: nothing but IPv4 on the pair (older ip
	// may not know addrgenmode; that is harmless).
	_, _ = n.run("link", "set", n.HostDev, "addrgenmode", "none")
	_, _ = n.run("-n", n.Name, "link", "set", n.NSDev, "addrgenmode", "none")
	for _, s := range [][]string{{"link", "set", n.HostDev, "up"}, {"-n", n.Name, "link", "set", n.NSDev, "up"}} {
		if out, err := n.run(s...); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n.checkRoute()
}

// run runs ip with args and returns its combined output.
func (n *Netns) run(args ...string) (string, error) {
	cmd := exec.Command(n.ip, args...)
	cmd.Env = sandbox.MinimalEnv()
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// checkRoute makes sure the host reaches NSAddr through HostDev only.
func (n *Netns) checkRoute() error {
	out, err := n.run("-4", "-o", "route", "get", n.NSAddr)
	if err != nil {
		return fmt.Errorf("ip route get %s: %v: %s", n.NSAddr, err, out)
	}
	if !slicesContains(strings.Fields(out), n.HostDev) {
		return fmt.Errorf("the host would reach %s through another interface than %s: %s", n.NSAddr, n.HostDev, out)
	}
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var ipv4Re = regexp.MustCompile(`\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(/\d{1,2})?\b`)

// usedPrefixes returns every IPv4 address and prefix the host's addresses
// and routes (all tables) name, less the default route.
func usedPrefixes(ip string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, args := range [][]string{{"-4", "-o", "addr", "show"}, {"-4", "route", "show", "table", "all"}} {
		cmd := exec.Command(ip, args...)
		cmd.Env = sandbox.MinimalEnv()
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
		}
		for _, m := range ipv4Re.FindAllStringSubmatch(string(out), -1) {
			s := m[1] + m[2]
			if m[2] == "" {
				s += "/32"
			}
			p, err := netip.ParsePrefix(s)
			if err != nil || p.Bits() == 0 {
				continue
			}
			ps = append(ps, p.Masked())
		}
	}
	return ps, nil
}

func overlapsAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// Command returns a command that runs name with args inside the
// namespace. `ip netns exec` execs it in place, so the command's pid is
// the program's own.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command(n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Cut takes the namespace's end of the pair down: the link stalls, with no
// reset either way. It fails (and restores the link) if the host would
// then route NSAddr elsewhere.
func (n *Netns) Cut() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("the network namespace is closed")
	}
	if out, err := n.run("-n", n.Name, "link", "set", n.NSDev, "down"); err != nil {
		return fmt.Errorf("cut: ip link set %s down: %v: %s", n.NSDev, err, out)
	}
	n.cut = true
	if err := n.checkRoute(); err != nil {
		_ = n.restoreLocked()
		return fmt.Errorf("cut: %w", err)
	}
	return nil
}

// Restore brings the namespace's end up again after Cut.
func (n *Netns) Restore() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("the network namespace is closed")
	}
	return n.restoreLocked()
}

func (n *Netns) restoreLocked() error {
	if out, err := n.run("-n", n.Name, "link", "set", n.NSDev, "up"); err != nil {
		return fmt.Errorf("restore: ip link set %s up: %v: %s", n.NSDev, err, out)
	}
	n.cut = false
	return nil
}

// IsCut reports whether the link is cut.
func (n *Netns) IsCut() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut
}

// PIDs returns the processes running inside the namespace.
func (n *Netns) PIDs() ([]int, error) {
	out, err := n.run("netns", "pids", n.Name)
	if err != nil {
		return nil, fmt.Errorf("ip netns pids %s: %v: %s", n.Name, err, out)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// Close kills whatever still runs inside the namespace, deletes it and the
// veth pair, and waits until the host end is gone. It may be called more
// than once, and after a failed setup.
func (n *Netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	// Processes keep a namespace alive after `ip netns del`.
	for attempt := 0; attempt < 50; attempt++ {
		out, err := n.run("netns", "pids", n.Name)
		if err != nil || strings.TrimSpace(out) == "" {
			break
		}
		for _, f := range strings.Fields(out) {
			if p, err := strconv.Atoi(f); err == nil && p != os.Getpid() {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := n.run("netns", "del", n.Name); err != nil && !strings.Contains(out, "No such file") {
		errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", n.Name, err, out))
	} else {
		noteNetnsGone()
	}
	// Deleting either end deletes the pair; the namespace's end goes with
	// the namespace, but only once the kernel has freed it.
	if out, err := n.run("link", "del", n.HostDev); err != nil && !strings.Contains(out, "Cannot find device") {
		errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", n.HostDev, err, out))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/sys/class/net/" + n.HostDev); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("interface %s still exists 5s after its deletion", n.HostDev))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(errs) == 0 {
		n.releaseBlock()
	}
	return errors.Join(errs...)
}
