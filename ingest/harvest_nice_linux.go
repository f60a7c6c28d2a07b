//go:build linux

package ingest

import (
	"runtime"
	"syscall"
)

// backgroundNice is the niceness of the pool's threads: a host's goroutine
// woken for its turn takes the core from a pool worker at once instead of
// sharing it (nice 10 weighs a tenth of nice 0), while the pool still has
// every idle cycle.
const backgroundNice = 10

// background moves the calling goroutine to an OS thread of its own at a
// lower priority, for the rest of its life: the thread is never unlocked,
// so the runtime ends it with the goroutine and no other goroutine ever
// runs at its priority (threads the runtime starts meanwhile come from its
// template thread, not this one). Where the kernel refuses, it changes
// nothing.
func background() {
	runtime.LockOSThread()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), backgroundNice); err != nil {
		runtime.UnlockOSThread()
	}
}
