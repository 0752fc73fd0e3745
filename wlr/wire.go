package wlr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The Wayland wire format (wayland.freedesktop.org, "Wire Format"): every
// message is the sender's object id (u32), then u32 (size << 16 | opcode)
// with the size counting these 8 bytes, then the arguments, each a
// multiple of 4 bytes, in the host's byte order (little-endian here).
const (
	headerSize = 8
	maxMessage = 4096 // libwayland's WL_MAX_MESSAGE_SIZE
)

// le is the byte order of the wire on the machines perch supports.
var le = binary.LittleEndian

// Message is one Wayland message.
type Message struct {
	Object uint32
	Opcode uint16
	Args   []byte
}

// errShort: the buffer ends inside a message; read more.
var errShort = errors.New("wayland: incomplete message")

// ReadMessage decodes the first message of buf and returns it with the
// bytes after it. An incomplete message gives errShort; a malformed header
// (a size below 8, above 4096 or not a multiple of 4) another error.
func ReadMessage(buf []byte) (Message, []byte, error) {
	if len(buf) < headerSize {
		return Message{}, buf, errShort
	}
	obj := le.Uint32(buf)
	word := le.Uint32(buf[4:])
	size, op := int(word>>16), uint16(word&0xffff)
	if size < headerSize || size > maxMessage || size%4 != 0 {
		return Message{}, buf, fmt.Errorf("wayland: message of object %d has a bad size %d", obj, size)
	}
	if len(buf) < size {
		return Message{}, buf, errShort
	}
	return Message{Object: obj, Opcode: op, Args: buf[headerSize:size]}, buf[size:], nil
}

// Encode appends the message to buf.
func (m Message) Encode(buf []byte) []byte {
	buf = le.AppendUint32(buf, m.Object)
	buf = le.AppendUint32(buf, uint32(headerSize+len(m.Args))<<16|uint32(m.Opcode))
	return append(buf, m.Args...)
}

// Args reads a message's arguments in order; the first error sticks and
// every later read returns zero values.
type Args struct {
	b   []byte
	err error
}

// NewArgs reads the arguments of m.
func NewArgs(m Message) *Args { return &Args{b: m.Args} }

// Err is the first decoding error (arguments left over are ignored, as
// a newer version of an event may add some).
func (a *Args) Err() error { return a.err }

func (a *Args) fail(what string) {
	if a.err == nil {
		a.err = fmt.Errorf("wayland: message too short for its %s argument", what)
	}
	a.b = nil
}

// Uint reads a uint, object or new_id argument.
func (a *Args) Uint() uint32 {
	if len(a.b) < 4 {
		a.fail("uint")
		return 0
	}
	v := le.Uint32(a.b)
	a.b = a.b[4:]
	return v
}

// Int reads an int argument.
func (a *Args) Int() int32 { return int32(a.Uint()) }

// Fixed reads a 24.8 fixed-point argument.
func (a *Args) Fixed() float64 { return float64(a.Int()) / 256 }

// String reads a string argument: its length with the NUL, the bytes, the
// NUL, padding to 4.
func (a *Args) String() string {
	b := a.Array()
	if a.err != nil {
		return ""
	}
	if len(b) == 0 {
		return "" // a null string
	}
	if b[len(b)-1] != 0 {
		a.err = errors.New("wayland: string argument without its NUL")
		return ""
	}
	return string(b[:len(b)-1])
}

// Array reads an array argument: its length, the bytes, padding to 4.
func (a *Args) Array() []byte {
	n := a.Uint()
	if a.err != nil {
		return nil
	}
	padded := (uint64(n) + 3) &^ 3
	if padded > uint64(len(a.b)) {
		a.fail("string or array")
		return nil
	}
	v := a.b[:n]
	a.b = a.b[padded:]
	return v
}

// Builder builds a message's arguments.
type Builder struct{ b []byte }

// Uint appends a uint, object or new_id.
func (w *Builder) Uint(v uint32) *Builder { w.b = le.AppendUint32(w.b, v); return w }

// Int appends an int.
func (w *Builder) Int(v int32) *Builder { return w.Uint(uint32(v)) }

// Fixed appends a 24.8 fixed-point number.
func (w *Builder) Fixed(v float64) *Builder { return w.Int(int32(math.Round(v * 256))) }

// String appends a string with its NUL and padding.
func (w *Builder) String(s string) *Builder {
	w.Uint(uint32(len(s) + 1))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
	return w
}

// Msg is the message to object with opcode and these arguments.
func (w *Builder) Msg(object uint32, opcode uint16) Message {
	return Message{Object: object, Opcode: opcode, Args: w.b}
}
