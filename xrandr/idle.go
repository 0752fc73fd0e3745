package xrandr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// WatchActivity tells when the user of display becomes active after at
// least after without keyboard or mouse input: a value on the returned
// channel for each such return, until ctx ends (then it is closed).
//
// Idleness comes from the X server as events: the SYNC extension's IDLETIME
// system counter with two alarms, one when the idle time rises past
// after, one when it falls again (input) while it was past. xgb has no
// SYNC package, so the few requests are built here by hand. The goroutine
// it starts owns the connection's event loop and ends with the channel.
func WatchActivity(ctx context.Context, display string, after time.Duration) (<-chan time.Time, error) {
	quietXGB()
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %q: %w", display, err)
	}
	s, err := newSyncIdle(x)
	if err != nil {
		x.Close()
		return nil, err
	}
	ms := max(after.Milliseconds(), 1)
	idle, err := s.createAlarm(ms, testPositiveTransition)
	if err != nil {
		x.Close()
		return nil, err
	}
	back, err := s.createAlarm(ms-1, testNegativeTransition)
	if err != nil {
		x.Close()
		return nil, err
	}
	// Already idle long enough: the first input counts.
	now, err := s.queryCounter()
	if err != nil {
		x.Close()
		return nil, err
	}
	ch := make(chan time.Time, 1)
	stop := context.AfterFunc(ctx, x.Close)
	go func() {
		defer close(ch)
		defer stop()
		defer x.Close()
		wasIdle := now >= ms
		for {
			ev, xerr := x.WaitForEvent()
			if ev == nil && xerr == nil {
				return
			}
			a, ok := ev.(alarmNotify)
			switch {
			case !ok:
			case a.alarm == idle:
				wasIdle = true
			case a.alarm == back && wasIdle:
				wasIdle = false
				select {
				case ch <- time.Now():
				default: // one is waiting already
				}
			}
		}
	}()
	return ch, nil
}

// The SYNC requests and event used (X Synchronization Extension 3.1).
const (
	syncInitialize         = 0
	syncListSystemCounters = 1
	syncQueryCounter       = 5
	syncCreateAlarm        = 8

	testPositiveTransition = 0
	testNegativeTransition = 1

	caCounter   = 1 << 0
	caValueType = 1 << 1
	caValue     = 1 << 2
	caTestType  = 1 << 3
	caDelta     = 1 << 4
	caEvents    = 1 << 5
)

type syncIdle struct {
	x       *xgb.Conn
	opcode  byte
	counter uint32 // IDLETIME
}

// alarmNotify is SYNC's AlarmNotify event (only the alarm is read).
type alarmNotify struct {
	alarm uint32
	seq   uint16
	raw   []byte
}

func (e alarmNotify) Bytes() []byte      { return e.raw }
func (e alarmNotify) SequenceId() uint16 { return e.seq }
func (e alarmNotify) String() string     { return fmt.Sprintf("AlarmNotify{alarm %d}", e.alarm) }

// registerSync makes xgb build AlarmNotify events: the event numbers are
// the server's, the same on every connection to it; xgb's table is global.
var registerSync sync.Mutex

func newSyncIdle(x *xgb.Conn) (*syncIdle, error) {
	ext, err := xproto.QueryExtension(x, 4, "SYNC").Reply()
	if err != nil {
		return nil, fmt.Errorf("query the SYNC extension: %w", err)
	}
	if !ext.Present {
		return nil, errors.New("the X server has no SYNC extension: input idleness cannot be watched")
	}
	registerSync.Lock()
	xgb.NewEventFuncs[int(ext.FirstEvent)+1] = func(buf []byte) xgb.Event {
		return alarmNotify{seq: xgb.Get16(buf[2:]), alarm: xgb.Get32(buf[4:]), raw: buf}
	}
	registerSync.Unlock()
	s := &syncIdle{x: x, opcode: ext.MajorOpcode}
	if _, err := s.request(syncInitialize, []byte{3, 1, 0, 0}, true); err != nil {
		return nil, fmt.Errorf("SYNC initialize: %w", err)
	}
	reply, err := s.request(syncListSystemCounters, nil, true)
	if err != nil {
		return nil, fmt.Errorf("SYNC list counters: %w", err)
	}
	n := int(xgb.Get32(reply[8:]))
	b := reply[32:]
	for range n {
		if len(b) < 14 {
			break
		}
		id, nameLen := xgb.Get32(b), int(xgb.Get16(b[12:]))
		if len(b) < 14+nameLen {
			break
		}
		if string(b[14:14+nameLen]) == "IDLETIME" {
			s.counter = id
			return s, nil
		}
		b = b[min(len(b), xgb.Pad(14+nameLen)):]
	}
	return nil, errors.New("the X server's SYNC extension has no IDLETIME counter: input idleness cannot be watched")
}

// request sends a SYNC request with body (a multiple of 4 bytes) and
// returns its reply (want) or checks it.
func (s *syncIdle) request(minor byte, body []byte, want bool) ([]byte, error) {
	buf := make([]byte, 4+len(body))
	buf[0], buf[1] = s.opcode, minor
	xgb.Put16(buf[2:], uint16(len(buf)/4))
	copy(buf[4:], body)
	c := s.x.NewCookie(true, want)
	s.x.NewRequest(buf, c)
	if want {
		return c.Reply()
	}
	return nil, c.Check()
}

// queryCounter reads IDLETIME, in milliseconds.
func (s *syncIdle) queryCounter() (int64, error) {
	body := make([]byte, 4)
	xgb.Put32(body, s.counter)
	reply, err := s.request(syncQueryCounter, body, true)
	if err != nil {
		return 0, fmt.Errorf("SYNC query counter: %w", err)
	}
	if len(reply) < 16 {
		return 0, errors.New("SYNC query counter: short reply")
	}
	return int64(int32(xgb.Get32(reply[8:])))<<32 | int64(xgb.Get32(reply[12:])), nil
}

// createAlarm makes an alarm on IDLETIME at value ms with test; it sends
// events.
func (s *syncIdle) createAlarm(ms int64, test uint32) (uint32, error) {
	id, err := s.x.NewId()
	if err != nil {
		return 0, err
	}
	body := make([]byte, 8+4*7)
	xgb.Put32(body, id)
	xgb.Put32(body[4:], caCounter|caValueType|caValue|caTestType|caDelta|caEvents)
	v := body[8:]
	xgb.Put32(v, s.counter)
	xgb.Put32(v[4:], 0) // absolute
	xgb.Put32(v[8:], uint32(ms>>32))
	xgb.Put32(v[12:], uint32(ms))
	xgb.Put32(v[16:], test)
	xgb.Put32(v[20:], 0) // delta 0: hi, then lo
	xgb.Put32(v[24:], 0)
	body = append(body, 0, 0, 0, 0)
	xgb.Put32(body[len(body)-4:], 1) // events: true (the 8th word)
	if _, err := s.request(syncCreateAlarm, body, false); err != nil {
		return 0, fmt.Errorf("SYNC create alarm: %w", err)
	}
	return id, nil
}
