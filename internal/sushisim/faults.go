package sushisim

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
)

// FaultKind is a way a vendor misbehaves.
type FaultKind string

// The fault modes. Each answers a report request in place of the report.
const (
	FaultLatency       FaultKind = "latency"        // wait Delay, then answer normally
	FaultQueued        FaultKind = "queued"         // HTTP 202 with exception 1011
	FaultNotReady      FaultKind = "not_ready"      // 200, report with 3031 and no items
	FaultNoUsage       FaultKind = "no_usage"       // 200, report with 3030 and no items
	FaultTooMany       FaultKind = "too_many"       // HTTP 429 with 1020 and Retry-After
	FaultBusy          FaultKind = "busy"           // HTTP 503 with 1010
	FaultServerError   FaultKind = "server_error"   // HTTP 500, plain text
	FaultHTML          FaultKind = "html"           // HTTP 200, an HTML login page
	FaultTruncated     FaultKind = "truncated"      // HTTP 200, the report cut in half
	FaultEmpty         FaultKind = "empty"          // HTTP 200, no body
	FaultSlowBody      FaultKind = "slow_body"      // half the report, wait Delay, the rest
	FaultWrongMonths   FaultKind = "wrong_months"   // a report for the month before the one asked
	FaultWrongCustomer FaultKind = "wrong_customer" // another library's report
	FaultBadKey        FaultKind = "bad_key"        // HTTP 401 with 2020
	FaultUnsupported   FaultKind = "unsupported"    // HTTP 404 with 3000
	FaultPartial       FaultKind = "partial"        // 200, the report with 3040
)

// Fault is one rule: requests matching Platform, Library and Month (empty
// or zero match any) get Kind for the first Times requests of each unit
// (0: every request), then the normal answer.
type Fault struct {
	Platform string
	Library  bibstat.LibraryID
	Month    bibstat.Month
	Kind     FaultKind
	Times    int
	// Delay is the latency or the slow body's pause; RetryAfter is sent
	// with too_many (seconds, rounded up).
	Delay      time.Duration
	RetryAfter time.Duration
}

func (f *Fault) matches(platform string, lib bibstat.LibraryID, m bibstat.Month) bool {
	return (f.Platform == "" || f.Platform == platform) && (f.Library == "" || f.Library == lib) && (f.Month.IsZero() || f.Month == m)
}

// faultCounter counts the requests each (rule, unit) has seen.
type faultCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// pick returns the fault for this request, if any, and counts it.
func (c *Config) pick(fc *faultCounter, platform string, lib bibstat.LibraryID, m bibstat.Month) *Fault {
	for i := range c.Faults {
		f := &c.Faults[i]
		if !f.matches(platform, lib, m) {
			continue
		}
		if f.Times == 0 {
			return f
		}
		key := fmt.Sprintf("%d/%s/%s/%s", i, platform, lib, m)
		fc.mu.Lock()
		n := fc.n[key]
		fc.n[key] = n + 1
		fc.mu.Unlock()
		if n < f.Times {
			return f
		}
	}
	return nil
}

// serveFault answers with f, or returns false when the normal report
// should follow (latency) or be altered (the caller handles wrong_*, partial
// and slow_body).
func serveFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultLatency:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		}
		return false
	case FaultQueued:
		writeException(w, 1011, "")
	case FaultTooMany:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		writeException(w, 1020, "1 request per second")
	case FaultBusy:
		writeException(w, 1010, "")
	case FaultServerError:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("internal server error\n"))
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("<!DOCTYPE html><html><head><title>Log in</title></head><body><form>Session expired</form></body></html>\n"))
	case FaultEmpty:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
	case FaultBadKey:
		writeException(w, 2020, "")
	case FaultUnsupported:
		writeException(w, 3000, "")
	default:
		return false
	}
	return true
}
