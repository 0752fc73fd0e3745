// Command animator is the benchmark's continuously changing window: a
// 640x480 window named "perch-anim" repainted 30 times a second with a
// moving picture, its frame number drawn in the top row as 16 black or
// white 16x16 blocks (bit 15 first), so that whoever sees the window can
// count the frames that reached it. Each key press it receives is logged
// to the file named by $ANIM_KEYLOG as "key UNIXNANO".
//
//	ANIM_KEYLOG=/tmp/keys animator
package main

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

const (
	width, height = 640, 480
	band          = 60 // rows per PutImage: 640*60*4 bytes stay under the request limit
	block         = 16
)

func main() {
	x, err := xgb.NewConn()
	if err != nil {
		log.Fatal(err)
	}
	scr := xproto.Setup(x).DefaultScreen(x)
	win, err := xproto.NewWindowId(x)
	if err != nil {
		log.Fatal(err)
	}
	xproto.CreateWindow(x, scr.RootDepth, win, scr.Root, 0, 0, width, height, 0,
		xproto.WindowClassInputOutput, scr.RootVisual, xproto.CwEventMask,
		[]uint32{xproto.EventMaskKeyPress | xproto.EventMaskExposure})
	name := "perch-anim"
	xproto.ChangeProperty(x, xproto.PropModeReplace, win, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(name)), []byte(name))
	xproto.MapWindow(x, win)
	gc, _ := xproto.NewGcontextId(x)
	xproto.CreateGC(x, gc, xproto.Drawable(win), 0, nil)

	var keylog *os.File
	if p := os.Getenv("ANIM_KEYLOG"); p != "" {
		if keylog, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	go func() {
		for {
			ev, err := x.WaitForEvent()
			if ev == nil && err == nil {
				os.Exit(0)
			}
			if _, ok := ev.(xproto.KeyPressEvent); ok && keylog != nil {
				fmt.Fprintf(keylog, "key %d\n", time.Now().UnixNano())
			}
		}
	}()

	buf := make([]byte, width*band*4)
	tick := time.NewTicker(time.Second / 30)
	for frame := 0; ; frame++ {
		for y0 := 0; y0 < height; y0 += band {
			paint(buf, frame, y0)
			xproto.PutImage(x, xproto.ImageFormatZPixmap, xproto.Drawable(win), gc, width, band, 0, int16(y0), 0, scr.RootDepth, buf)
		}
		if _, err := xproto.GetInputFocus(x).Reply(); err != nil { // a round trip: the frame is drawn
			log.Fatal(err)
		}
		<-tick.C
	}
}

// paint draws rows y0..y0+band of frame: moving diagonal colour bands and
// a drifting checker, the frame number in the top row.
func paint(buf []byte, frame, y0 int) {
	for y := 0; y < band; y++ {
		yy := y0 + y
		for xx := 0; xx < width; xx++ {
			i := (y*width + xx) * 4
			var r, g, b byte
			if yy < block && xx < 16*block {
				bit := 15 - xx/block
				if frame>>bit&1 == 1 {
					r, g, b = 255, 255, 255
				}
			} else {
				d := xx + yy + frame*7
				r = byte(d)
				g = byte(xx*2 - frame*5)
				b = byte(yy*3 + frame*3)
				if ((xx+frame*4)/40+(yy+frame*2)/40)%2 == 0 {
					r, g = g, r
				}
			}
			buf[i], buf[i+1], buf[i+2], buf[i+3] = b, g, r, 0
		}
	}
}
