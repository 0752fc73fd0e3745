package xrandr

import (
	"context"
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
)

// EventKind says what a RandR notification is about.
type EventKind int

// The RandR notifications Watch delivers.
const (
	ScreenChanged EventKind = iota + 1
	CrtcChanged
	OutputChanged
	OutputPropertyChanged
)

func (k EventKind) String() string {
	switch k {
	case ScreenChanged:
		return "screen"
	case CrtcChanged:
		return "crtc"
	case OutputChanged:
		return "output"
	case OutputPropertyChanged:
		return "output-property"
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event is one RandR notification as a Go value. Only the fields of its
// Kind are set.
type Event struct {
	Kind            EventKind
	Timestamp       uint32
	ConfigTimestamp uint32 // ScreenChanged
	Width, Height   int    // ScreenChanged, CrtcChanged
	MmWidth         int    // ScreenChanged
	MmHeight        int    // ScreenChanged
	Crtc            CrtcID // CrtcChanged, OutputChanged
	Mode            ModeID // CrtcChanged, OutputChanged
	X, Y            int    // CrtcChanged
	Rotation        Rotation
	Output          OutputID // OutputChanged, OutputPropertyChanged
	Connected       bool     // OutputChanged
	Connection      string   // OutputChanged
}

// Watch subscribes to RandR screen, CRTC, output and output-property
// notifications on its own connection to display and delivers them on the
// returned channel until ctx ends or the connection closes; then the
// channel is closed. The goroutine it starts ends with the channel.
func Watch(ctx context.Context, display string) (<-chan Event, error) {
	quietXGB()
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %q: %w", display, err)
	}
	if err := randr.Init(x); err != nil {
		x.Close()
		return nil, fmt.Errorf("the X server has no RandR extension: %w", err)
	}
	root := xproto.Setup(x).DefaultScreen(x).Root
	mask := uint16(randr.NotifyMaskScreenChange | randr.NotifyMaskCrtcChange |
		randr.NotifyMaskOutputChange | randr.NotifyMaskOutputProperty)
	if err := randr.SelectInputChecked(x, root, mask).Check(); err != nil {
		x.Close()
		return nil, fmt.Errorf("select RandR events: %w", err)
	}
	ch := make(chan Event, 64)
	stop := context.AfterFunc(ctx, x.Close) // unblocks WaitForEvent
	go func() {
		defer close(ch)
		defer stop()
		defer x.Close()
		for {
			ev, xerr := x.WaitForEvent()
			if ev == nil && xerr == nil {
				return // connection closed
			}
			e, ok := toEvent(ev)
			if !ok {
				continue
			}
			select {
			case ch <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func toEvent(ev xgb.Event) (Event, bool) {
	switch e := ev.(type) {
	case randr.ScreenChangeNotifyEvent:
		return Event{
			Kind: ScreenChanged, Timestamp: uint32(e.Timestamp), ConfigTimestamp: uint32(e.ConfigTimestamp),
			Width: int(e.Width), Height: int(e.Height), MmWidth: int(e.Mwidth), MmHeight: int(e.Mheight),
			Rotation: Rotation(e.Rotation),
		}, true
	case randr.NotifyEvent:
		switch e.SubCode {
		case randr.NotifyCrtcChange:
			cc := e.U.Cc
			return Event{
				Kind: CrtcChanged, Timestamp: uint32(cc.Timestamp), Crtc: CrtcID(cc.Crtc), Mode: ModeID(cc.Mode),
				X: int(cc.X), Y: int(cc.Y), Width: int(cc.Width), Height: int(cc.Height), Rotation: Rotation(cc.Rotation),
			}, true
		case randr.NotifyOutputChange:
			oc := e.U.Oc
			return Event{
				Kind: OutputChanged, Timestamp: uint32(oc.Timestamp), ConfigTimestamp: uint32(oc.ConfigTimestamp),
				Output: OutputID(oc.Output), Crtc: CrtcID(oc.Crtc), Mode: ModeID(oc.Mode), Rotation: Rotation(oc.Rotation),
				Connected: oc.Connection == randr.ConnectionConnected, Connection: connectionName(oc.Connection),
			}, true
		case randr.NotifyOutputProperty:
			op := e.U.Op
			return Event{Kind: OutputPropertyChanged, Timestamp: uint32(op.Timestamp), Output: OutputID(op.Output)}, true
		}
	}
	return Event{}, false
}
