//go:build !linux

package ingest

import "time"

// preciseSleep is a runtime sleep where the kernel's is not at hand.
func preciseSleep(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}
