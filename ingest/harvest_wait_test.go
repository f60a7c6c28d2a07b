package ingest

import (
	"testing"
	"time"
)

// TestPreciseUntil: a wait never ends before its time (the gate's rule
// rests on it), and one for a time long past, the zero time included,
// returns at once rather than sleeping for an overflowed duration.
func TestPreciseUntil(t *testing.T) {
	for _, at := range []time.Time{{}, time.Now().Add(-time.Hour), time.Now().Add(-time.Microsecond)} {
		preciseUntil(at)
	}
	for _, d := range []time.Duration{0, time.Microsecond, 10 * time.Microsecond, 20 * time.Microsecond, 3 * time.Millisecond} {
		at := time.Now().Add(d)
		preciseUntil(at)
		if now := time.Now(); now.Before(at) {
			t.Errorf("wait of %v ended %v before its time", d, at.Sub(now))
		}
	}
}
