//go:build linux

package ingest

import (
	"runtime"
	"syscall"
	"time"
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

// preciseUntil waits for the real clock to reach t, a few microseconds
// late at most on an idle core: asleep in the kernel with the thread's
// timer slack at 1 ns (the default 50 µs is added to every wake), then
// polling the clock for the last spinMargin. The slack is the thread's,
// so the goroutine stays on one thread for the wait; left at 1 ns
// afterwards, it only makes that thread's other waits less late.
func preciseUntil(t time.Time) {
	d := time.Until(t) // saturated for a t long past: never subtract from it unchecked
	if d <= 0 {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if d > spinMargin {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
		preciseSleep(d - spinMargin)
	}
	for time.Until(t) > 0 {
	}
}
