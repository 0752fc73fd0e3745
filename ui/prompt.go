package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/ssh"
)

// Prompter asks a person when the agent needs one: an unknown host key
// (accept once, accept and remember, refuse) and a key's passphrase. Its
// methods are called from the link's goroutine and block until answered;
// the windows live on the UI goroutine.
type Prompter struct {
	app     fyne.App
	timeout time.Duration
}

// NewPrompter makes a prompter showing its windows in app. Unanswered
// prompts are refused after 5 minutes.
func NewPrompter(app fyne.App) *Prompter { return &Prompter{app: app, timeout: 5 * time.Minute} }

// ErrNoAnswer is returned when a prompt was closed or timed out.
var ErrNoAnswer = errors.New("no answer: the prompt was closed")

// Prompt window titles.
const (
	HostKeyTitle    = "perch: unknown host key"
	PassphraseTitle = "perch: key passphrase"
)

// Button labels of the host key prompt.
const (
	AcceptOnce     = "Accept once"
	AcceptRemember = "Accept and remember"
	Refuse         = "Refuse"
)

type hostKeyAnswer struct{ accept, remember bool }

// HostKey asks whether to trust an unknown host key, showing its SHA256
// fingerprint as ssh-keygen -l does. The window goes away, with ctx's
// error, when ctx ends (the connection attempt that asked was given up).
func (p *Prompter) HostKey(ctx context.Context, host string, key ssh.PublicKey) (accept, remember bool, err error) {
	answer := make(chan hostKeyAnswer, 1)
	var w fyne.Window
	fyne.Do(func() {
		w = p.app.NewWindow(HostKeyTitle)
		reply := func(a hostKeyAnswer) func() {
			return func() {
				select {
				case answer <- a:
				default:
				}
				w.Close()
			}
		}
		text := widget.NewLabel(fmt.Sprintf("The host key of %s is not known.\n\n%s key fingerprint is %s\n\n"+
			"Accept it only if you have checked this fingerprint with the server's administrator.",
			host, key.Type(), ssh.FingerprintSHA256(key)))
		text.Wrapping = fyne.TextWrapWord
		w.SetContent(container.NewVBox(text, container.NewHBox(
			widget.NewButton(AcceptOnce, reply(hostKeyAnswer{true, false})),
			widget.NewButton(AcceptRemember, reply(hostKeyAnswer{true, true})),
			widget.NewButton(Refuse, reply(hostKeyAnswer{false, false})),
		)))
		w.SetOnClosed(func() {
			select {
			case answer <- hostKeyAnswer{}:
			default:
			}
		})
		w.Resize(fyne.NewSize(520, 220))
		w.Show()
	})
	select {
	case a := <-answer:
		return a.accept, a.remember, nil
	case <-ctx.Done():
		fyne.Do(func() { w.Close() })
		return false, false, ctx.Err()
	case <-time.After(p.timeout):
		fyne.Do(func() { w.Close() })
		return false, false, ErrNoAnswer
	}
}

// Passphrase asks for an encrypted key's passphrase; the window goes away,
// with ctx's error, when ctx ends.
func (p *Prompter) Passphrase(ctx context.Context, keyFile string) ([]byte, error) {
	type reply struct {
		pass []byte
		ok   bool
	}
	answer := make(chan reply, 1)
	var w fyne.Window
	fyne.Do(func() {
		w = p.app.NewWindow(PassphraseTitle)
		entry := widget.NewPasswordEntry()
		put := func(r reply) {
			select {
			case answer <- r:
			default:
			}
		}
		send := func(r reply) {
			put(r)
			w.Close()
		}
		ok := func() { send(reply{[]byte(entry.Text), true}) }
		entry.OnSubmitted = func(string) { ok() }
		w.SetContent(container.NewVBox(
			widget.NewLabel("Passphrase for "+keyFile+":"),
			entry,
			container.NewHBox(widget.NewButton("OK", ok), widget.NewButton("Cancel", func() { send(reply{}) })),
		))
		w.SetOnClosed(func() { put(reply{}) })
		w.Resize(fyne.NewSize(420, 160))
		w.Show()
		w.Canvas().Focus(entry)
	})
	select {
	case r := <-answer:
		if !r.ok {
			return nil, ErrNoAnswer
		}
		return r.pass, nil
	case <-ctx.Done():
		fyne.Do(func() { w.Close() })
		return nil, ctx.Err()
	case <-time.After(p.timeout):
		fyne.Do(func() { w.Close() })
		return nil, ErrNoAnswer
	}
}
