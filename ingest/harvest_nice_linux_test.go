//go:build linux

package ingest

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// niceOfThread is the calling thread's niceness (the raw getpriority
// returns 20 − nice).
func niceOfThread(t *testing.T) int {
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

// TestBackgroundThreadDies checks that a pool worker runs at the lower
// priority and that its thread is not handed to any other goroutine
// afterwards: the hosts' goroutines must never inherit it.
func TestBackgroundThreadDies(t *testing.T) {
	runtime.LockOSThread()
	base := niceOfThread(t)
	runtime.UnlockOSThread()
	if base >= backgroundNice {
		t.Skipf("the test already runs at nice %d", base)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			background()
			if n := niceOfThread(t); n != backgroundNice {
				t.Errorf("pool worker at nice %d, want %d", n, backgroundNice)
			}
		})
	}
	wg.Wait()
	niced := 0
	for range 64 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if niceOfThread(t) != base {
				niced++
			}
		})
		wg.Wait()
	}
	if niced > 0 {
		t.Errorf("%d of 64 later goroutines ran on a thread at the pool's priority", niced)
	}
}
