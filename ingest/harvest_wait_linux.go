//go:build linux

package ingest

import (
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK (linux/prctl.h).
const prSetTimerSlack = 29

// spinMargin is the end of a precise wait spent polling the clock rather
// than asleep: with a 1 ns timer slack the kernel's nanosleep still wakes
// a thread 15 µs late at the median and 25–40 µs at the 90th percentile
// (measured on this 2-core machine); polling the last 20 µs makes the
// median wake a few hundred nanoseconds late for at most 20 µs of CPU a
// request (2.7 s in 135,000 at worst).
const spinMargin = 20 * time.Microsecond

// wakeSlice is the scheduler slice (sched_setattr's sched_runtime) of a
// thread asleep in a precise wait. Linux's EEVDF scheduler (6.12 on) lets
// a woken thread preempt the running one at once only when its slice is
// the shorter; with the default (0.75 ms × (1 + log2 CPUs)) it waits for
// the running thread's slice to end. Measured on this 2-core machine,
// 2 ms sleeps against two busy loops at load 11: woken 470–570 µs late on
// average (p99 6–9 ms) with the default slice, 52–56 µs (p99 82–112 µs)
// with 100 µs, the kernel's least. The slice takes no CPU share from
// anyone: it only orders the wakes. Older kernels ignore it.
const wakeSlice = 100 * time.Microsecond

// preciseUntil waits for the real clock to reach t, a few microseconds
// late at most on an idle core: asleep in the kernel with the thread's
// timer slack at 1 ns (the default 50 µs is added to every wake) and a
// short scheduler slice (wakeSlice), then polling the clock for the last
// spinMargin. Slack and slice are the thread's, so the goroutine stays
// on one thread for the wait; the slack is left at 1 ns afterwards (it
// only makes that thread's other waits less late), the slice is given
// back so that the thread's other goroutines run as before.
func preciseUntil(t time.Time) {
	d := time.Until(t) // saturated for a t long past: never subtract from it unchecked
	if d <= 0 {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if d > spinMargin {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
		restore := shortSlice()
		preciseSleep(d - spinMargin)
		restore()
	}
	for time.Until(t) > 0 {
	}
}

// shortSlice gives the calling thread, locked to its goroutine, the
// scheduler slice wakeSlice and returns what gives its own back. A thread
// that is not SCHED_OTHER (real-time, deadline, idle: set by someone on
// purpose), or a kernel that refuses, is left as it is.
func shortSlice() (restore func()) {
	old, err := unix.SchedGetAttr(0, 0)
	if err != nil || old.Policy != unix.SCHED_NORMAL {
		return func() {}
	}
	short := *old
	short.Runtime = uint64(wakeSlice)
	if unix.SchedSetAttr(0, &short, 0) != nil {
		return func() {}
	}
	return func() { _ = unix.SchedSetAttr(0, old, 0) }
}
