//go:build !linux

package ingest

import "time"

// preciseUntil waits for the real clock to reach t as precisely as the
// system's sleep allows.
func preciseUntil(t time.Time) { preciseSleep(time.Until(t)) }
