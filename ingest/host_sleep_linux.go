//go:build linux

package ingest

import (
	"syscall"
	"time"
)

// preciseSleep sleeps d in the kernel, which wakes the thread within its
// timer slack (50 µs by default), not the runtime's millisecond.
func preciseSleep(d time.Duration) {
	for d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		var left syscall.Timespec
		if err := syscall.Nanosleep(&ts, &left); err != syscall.EINTR {
			return
		}
		d = time.Duration(left.Nano()) // a signal (the runtime's preemption) cut it short
	}
}
