// Command x11probe is a remote X11 client for perch's tests: run on the
// server through perch, it connects to $DISPLAY (sshd's X11 proxy) and
// sends an X connection setup with no cookie, a forged cookie, or the
// genuine (fake) cookie sshd put in its Xauthority, a byte at a time, in
// either byte order. It prints "accepted" when the X server answered the
// setup with Success, "rejected" when the connection was closed.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/perchdesk/perch/internal/sys/xauth"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: x11probe none|forged|genuine B|l")
		os.Exit(2)
	}
	mode, order := os.Args[1], os.Args[2]
	d, err := xauth.ParseDisplay(os.Getenv("DISPLAY"))
	if err != nil {
		fail(err)
	}
	n, _ := strconv.Atoi(d.Number)
	host := d.Host
	if host == "" || host == "unix" {
		host = "localhost"
	}
	c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)))
	if err != nil {
		fail(err)
	}
	defer c.Close()
	var name string
	var data []byte
	switch mode {
	case "none":
	case "forged":
		name, data = "MIT-MAGIC-COOKIE-1", make([]byte, 16)
		_, _ = rand.Read(data)
	case "genuine":
		b, err := os.ReadFile(xauth.Path())
		if err != nil {
			fail(err)
		}
		entries, err := xauth.Parse(b)
		if err != nil {
			fail(err)
		}
		hn, _ := os.Hostname()
		e, ok := xauth.Find(entries, hn, d.Number)
		if !ok {
			fail(fmt.Errorf("no cookie for display %s in %s", d.Number, xauth.Path()))
		}
		name, data = e.Name, e.Data
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	first := byte('l')
	if order == "B" {
		bo, first = binary.BigEndian, 'B'
	}
	pad := func(x int) int { return (x + 3) &^ 3 }
	setup := make([]byte, 12+pad(len(name))+pad(len(data)))
	setup[0] = first
	bo.PutUint16(setup[2:], 11)
	bo.PutUint16(setup[4:], 0)
	bo.PutUint16(setup[6:], uint16(len(name)))
	bo.PutUint16(setup[8:], uint16(len(data)))
	copy(setup[12:], name)
	copy(setup[12+pad(len(name)):], data)
	// A byte at a time: the forwarder must buffer until the setup is whole.
	for i := range setup {
		if _, err := c.Write(setup[i : i+1]); err != nil {
			fmt.Println("rejected")
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply := make([]byte, 8)
	if _, err := io.ReadFull(c, reply); err != nil {
		fmt.Println("rejected")
		return
	}
	if reply[0] == 1 {
		fmt.Println("accepted")
		return
	}
	fmt.Printf("refused by the X server (status %d)\n", reply[0])
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "x11probe:", err)
	os.Exit(1)
}
