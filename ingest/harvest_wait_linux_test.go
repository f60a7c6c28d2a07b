package ingest

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// TestShortSlice: during a precise wait's sleep the thread's scheduler
// slice is wakeSlice, and afterwards its own again (sched_getattr says):
// fails if the slice is never set, or left short.
func TestShortSlice(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Skipf("sched_getattr: %v", err)
	}
	restore := shortSlice()
	during, err := unix.SchedGetAttr(0, 0)
	if err != nil || during.Runtime != uint64(wakeSlice) {
		t.Errorf("slice during the wait %v (%v), want %v", time.Duration(during.Runtime), err, wakeSlice)
	}
	restore()
	after, err := unix.SchedGetAttr(0, 0)
	if err != nil || after.Runtime != before.Runtime {
		t.Errorf("slice after the wait %v (%v), want %v as before", time.Duration(after.Runtime), err, time.Duration(before.Runtime))
	}
}
