package wlr

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the message decoder and to the
// client's event handling, with an object of every kind: no input may
// panic or loop, and every message read must encode back to its bytes.
func FuzzDecode(f *testing.F) {
	var seed []byte
	seed = new(Builder).Uint(9).String(ManagerInterface).Uint(4).Msg(2, evRegistryGlobal).Encode(seed)
	seed = new(Builder).Uint(0xff000001).Msg(4, evManagerHead).Encode(seed)
	seed = new(Builder).String("DP-1").Msg(5, evHeadName).Encode(seed)
	seed = new(Builder).Uint(0xff000002).Msg(5, evHeadMode).Encode(seed)
	seed = new(Builder).Int(1920).Int(1080).Msg(6, evModeSize).Encode(seed)
	seed = new(Builder).Fixed(1.5).Msg(5, evHeadScale).Encode(seed)
	seed = new(Builder).Uint(3).Msg(4, evManagerDone).Encode(seed)
	seed = new(Builder).Msg(7, evConfigFailed).Encode(seed)
	seed = new(Builder).Uint(5).Uint(1).String("bad").Msg(displayID, evDisplayError).Encode(seed)
	f.Add(seed)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 8, 0})
	f.Add([]byte{5, 0, 0, 0, 10, 0, 16, 0, 255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &client{
			wake: make(chan struct{}), nextID: 20,
			kinds:     map[uint32]kind{2: kRegistry, 3: kCallback, 4: kManager, 5: kHead, 6: kMode, 7: kConfig, 8: kConfigHead},
			heads:     map[uint32]*head{5: {}},
			modes:     map[uint32]*mode{6: {}},
			callbacks: map[uint32]bool{}, results: map[uint32]string{},
		}
		c.order = []uint32{5}
		buf := data
		for len(buf) > 0 {
			m, rest, err := ReadMessage(buf)
			if err != nil {
				if errors.Is(err, errShort) && len(buf) >= headerSize && len(buf) >= maxMessage {
					t.Fatalf("a short read of %d bytes, more than a message can be", len(buf))
				}
				return
			}
			if len(rest) >= len(buf) {
				t.Fatal("ReadMessage consumed nothing")
			}
			if enc := m.Encode(nil); !bytes.Equal(enc, buf[:len(buf)-len(rest)]) {
				t.Fatalf("message %+v encodes to %x, read from %x", m, enc, buf[:len(buf)-len(rest)])
			}
			_ = c.handle(m)
			buf = rest
		}
	})
}
