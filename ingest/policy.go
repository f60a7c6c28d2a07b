package ingest

import (
	"math/rand/v2"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// Policy says when a unit is retried. The zero Policy means DefaultPolicy.
type Policy struct {
	// QueuedDelay is the first wait before asking again for a queued report
	// (1011 / HTTP 202); it doubles per try. QueuedTries bounds the tries in
	// one run; later runs retry after the last delay.
	QueuedDelay time.Duration
	QueuedTries int
	// ThrottleDelay is how long a host pauses after 1010/1020/429/503
	// without a Retry-After; it doubles per throttle. MaxPause is the longest
	// pause a run waits out: a longer one (or more than MaxThrottles
	// throttles) ends the host's share of the run, to be resumed next night.
	ThrottleDelay time.Duration
	MaxPause      time.Duration
	MaxThrottles  int
	// NotReadyDelay is the first wait after 3031 (and 3040); it doubles up
	// to NotReadyMaxDelay, for at most NotReadyAttempts attempts.
	NotReadyDelay    time.Duration
	NotReadyMaxDelay time.Duration
	NotReadyAttempts int
	// FailedDelay is the first wait after a failure; it doubles up to
	// FailedMaxDelay, for at most FailedAttempts attempts.
	FailedDelay    time.Duration
	FailedMaxDelay time.Duration
	FailedAttempts int
	// RefreshAge: a refreshed unit (Job.Refresh) already final is fetched
	// again only if its last harvest is older than this, so a rerun the
	// same night fetches nothing that is already ok.
	RefreshAge time.Duration
	// Jitter spreads every delay by ± this fraction.
	Jitter float64
}

// DefaultPolicy draws on Celus, ezMESURE and FOLIO (COUNTER.md §4.2).
var DefaultPolicy = Policy{
	QueuedDelay: time.Minute, QueuedTries: 5,
	ThrottleDelay: time.Minute, MaxPause: 15 * time.Minute, MaxThrottles: 8,
	NotReadyDelay: 24 * time.Hour, NotReadyMaxDelay: 8 * 24 * time.Hour, NotReadyAttempts: 6,
	FailedDelay: time.Hour, FailedMaxDelay: 24 * time.Hour, FailedAttempts: 5,
	RefreshAge: 20 * time.Hour,
	Jitter:     0.2,
}

func (h *Harvester) policy() Policy {
	if h.Policy == (Policy{}) {
		return DefaultPolicy
	}
	return h.Policy
}

// backoff is base·2^(n-1), capped, with ± jitter.
func backoff(base, limit time.Duration, n int, jitter float64) time.Duration {
	d := base
	for i := 1; i < n && (limit <= 0 || d < limit); i++ {
		d *= 2
	}
	if limit > 0 && d > limit {
		d = limit
	}
	if jitter > 0 {
		d = time.Duration(float64(d) * (1 + jitter*(2*rand.Float64()-1)))
	}
	return d
}

// A vendor's Retry-After on a queued report (202 / 1011) is honoured
// within these bounds: no sooner than a second, which would be asking
// again at once, and no later than ten minutes, which a run waits out.
const (
	minRetryAfter = time.Second
	maxRetryAfter = 10 * time.Minute
)

// queuedWait is how long to wait before asking again for a report queued
// tries times: the vendor's Retry-After, kept within the bounds, else the
// policy's own backoff.
func (p Policy) queuedWait(tries int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(max(retryAfter, minRetryAfter), maxRetryAfter)
	}
	return backoff(p.QueuedDelay, time.Hour, tries, p.Jitter)
}

// nextAttempt is when a unit in state st after attempts attempts may be
// tried again; zero when it is final or given up.
func (p Policy) nextAttempt(st bibstat.State, attempts int, retryAfter time.Duration, now time.Time) time.Time {
	switch st {
	case bibstat.StateQueued:
		return now.Add(p.queuedWait(attempts, retryAfter))
	case bibstat.StateThrottled:
		d := retryAfter
		if d <= 0 {
			d = backoff(p.ThrottleDelay, time.Hour, attempts, p.Jitter)
		}
		return now.Add(d)
	case bibstat.StateNotReady, bibstat.StatePartial:
		if attempts >= p.NotReadyAttempts {
			return time.Time{}
		}
		return now.Add(backoff(p.NotReadyDelay, p.NotReadyMaxDelay, attempts, p.Jitter))
	case bibstat.StateFailed:
		if attempts >= p.FailedAttempts {
			return time.Time{}
		}
		return now.Add(backoff(p.FailedDelay, p.FailedMaxDelay, attempts, p.Jitter))
	}
	return time.Time{}
}

// NextAttempt is nextAttempt without a Retry-After, for a ledger rebuilt
// from sidecars, which keep none (ledger.Rebuild).
func (p Policy) NextAttempt(st bibstat.State, attempts int, at time.Time) time.Time {
	return p.nextAttempt(st, attempts, 0, at)
}

// Skip reasons: why the planner leaves a job out of a run.
const (
	SkipFinal       = "final"              // ok or zero, not refreshed
	SkipNotDue      = "not_due"            // next attempt is later
	SkipGaveUp      = "gave_up"            // retries exhausted; fix and rerun with Force
	SkipUnsupported = "unsupported"        // the platform does not offer the report
	SkipBroken      = "credentials_broken" // the credential is broken and unchanged
)

// due decides whether job j runs now given its ledger entry; the reason
// says why not. Force ignores next attempts and retry limits.
func (p Policy) due(j Job, e ledger.Entry, ok bool, now time.Time, force bool, fp string) (bool, string) {
	if !ok {
		return true, ""
	}
	switch e.State {
	case bibstat.StateOK, bibstat.StateZero:
		if j.Refresh && now.Sub(e.UpdatedAt) >= p.RefreshAge {
			return true, ""
		}
		return false, SkipFinal
	case bibstat.StateUnsupported:
		if force {
			return true, ""
		}
		return false, SkipUnsupported
	case bibstat.StateCredentialsBroken:
		if force || e.CredFP != fp {
			return true, ""
		}
		return false, SkipBroken
	case bibstat.StatePartial:
		if j.Refresh && now.Sub(e.UpdatedAt) >= p.RefreshAge {
			return true, ""
		}
	}
	if force {
		return true, ""
	}
	if e.NextAttempt.IsZero() {
		if e.State == bibstat.StatePartial {
			return false, SkipFinal
		}
		return false, SkipGaveUp
	}
	if now.Before(e.NextAttempt) {
		return false, SkipNotDue
	}
	return true, ""
}

// Fingerprint identifies a credential's settings without revealing them
// (an HMAC under the ledger's key): a changed key or customer id gives a
// new fingerprint, which lifts credentials_broken.
func Fingerprint(l *ledger.Ledger, c sushi.Credential) string {
	return l.Fingerprint(c.BaseURL, c.Release, c.CustomerID, c.RequestorID, c.APIKey, c.PlatformParam)
}
