package ingest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestTimerSlack: a precise wait leaves its thread's timer slack at 1 ns
// (prctl's PR_GET_TIMERSLACK, 30, returns it): fails if the wait sleeps
// with the default 50 µs.
func TestTimerSlack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 0, 0) // back to the default
	preciseUntil(time.Now().Add(time.Millisecond))                         // LockOSThread nests: the same thread
	slack, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, 30, 0, 0)
	if errno != 0 || slack != 1 {
		t.Errorf("timer slack %d ns (%v), want 1", slack, errno)
	}
}
