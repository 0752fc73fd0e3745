package main

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
)

// pending are the test beds to stop if the bench is interrupted: their
// servers run in process groups of their own and would outlive it.
var pending = struct {
	sync.Mutex
	next int
	fns  map[int]func()
}{fns: map[int]func(){}}

// cleanOnInterrupt makes stop run if the bench is interrupted before its
// owner runs it; the returned function runs it (once) and forgets it.
func cleanOnInterrupt(stop func()) func() {
	var once sync.Once
	run := func() { once.Do(stop) }
	pending.Lock()
	id := pending.next
	pending.next++
	pending.fns[id] = run
	pending.Unlock()
	return func() {
		pending.Lock()
		delete(pending.fns, id)
		pending.Unlock()
		run()
	}
}

// handleInterrupts stops the pending beds, newest first, on SIGINT or
// SIGTERM, and exits.
func handleInterrupts() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-ch
		fmt.Fprintf(os.Stderr, "bench: %v: stopping the test beds\n", s)
		pending.Lock()
		ids := make([]int, 0, len(pending.fns))
		for id := range pending.fns {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		var fns []func()
		for _, id := range ids {
			fns = append(fns, pending.fns[id])
		}
		pending.Unlock()
		for _, f := range fns {
			f()
		}
		os.Exit(130)
	}()
}
