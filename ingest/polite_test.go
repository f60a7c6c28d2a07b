package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// TestUnsupportedOncePerRun: a report the vendor does not offer (404 /
// 3000) costs one request per credential, not one per month: the other
// months are recorded unsupported unasked; the next run asks nothing and
// --force asks once again.
func TestUnsupportedOncePerRun(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1", sushisim.Fault{Platform: "avis", Library: lib, Kind: sushisim.FaultUnsupported})
	months := bibstat.MonthsBetween(bibstat.Month{Year: 2025, Mon: 1}, bibstat.Month{Year: 2025, Mon: 12})
	jobs := r.jobs(lib, "5.1", months...)
	for _, step := range []struct {
		name     string
		force    bool
		requests int
	}{{"first run", false, 1}, {"rerun", false, 0}, {"force", true, 1}} {
		before := r.hits.get()
		r.h.Force = step.force
		sum, err := r.h.Run(context.Background(), jobs)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := r.hits.get() - before; got != step.requests || sum.Requests != step.requests {
			t.Errorf("%s: %d requests (summary %d), want %d", step.name, got, sum.Requests, step.requests)
		}
		if sum.SkipReasons[SkipUnsupported] != len(months)-step.requests {
			t.Errorf("%s: skipped as unsupported %d, want %d: %+v", step.name, sum.SkipReasons[SkipUnsupported], len(months)-step.requests, sum)
		}
		for _, j := range jobs {
			if e, ok := r.led.Get(j.Unit); !ok || e.State != bibstat.StateUnsupported || e.LastError == "" {
				t.Errorf("%s: %s is %q (%s), want unsupported with why", step.name, j.Unit, e.State, e.LastError)
			}
		}
	}
}

// TestQueuedHonoursRetryAfter: a 202 / 1011 with Retry-After: 1 is asked
// again after a second, not after the policy's hour; the run would wait
// that hour, and the test's deadline end it, if Retry-After were ignored.
func TestQueuedHonoursRetryAfter(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1", sushisim.Fault{Platform: "avis", Library: lib, Month: jan, Kind: sushisim.FaultQueued, Times: 1})
	inner := r.srv.Config.Handler
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		inner.ServeHTTP(retryAfter{w}, req)
	}))
	t.Cleanup(r.srv.Close)
	r.h.Policy.QueuedDelay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := r.h.Run(ctx, r.jobs(lib, "5.1", jan))
	if err != nil {
		t.Fatalf("run: %v (%+v)", err, sum)
	}
	if e, _ := r.led.Get(bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: jan}); e.State != bibstat.StateOK || sum.Requests != 2 {
		t.Errorf("state %s after %d requests, want ok after 2", e.State, sum.Requests)
	}
}

// retryAfter adds "Retry-After: 1" to a 202, which the simulator sends without.
type retryAfter struct{ http.ResponseWriter }

func (w retryAfter) WriteHeader(code int) {
	if code == http.StatusAccepted {
		w.Header().Set("Retry-After", "1")
	}
	w.ResponseWriter.WriteHeader(code)
}

func TestQueuedWait(t *testing.T) {
	p := Policy{QueuedDelay: time.Minute}
	for _, tc := range []struct {
		tries      int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, time.Minute},     // no Retry-After: the policy's wait
		{3, 0, 4 * time.Minute}, // doubling per try
		{1, 7 * time.Second, 7 * time.Second},
		{1, time.Millisecond, time.Second},   // at least a second
		{1, 2 * time.Hour, 10 * time.Minute}, // at most ten minutes
	} {
		if got := p.queuedWait(tc.tries, tc.retryAfter); got != tc.want {
			t.Errorf("queuedWait(%d, %v) = %v, want %v", tc.tries, tc.retryAfter, got, tc.want)
		}
		// The ledger's next attempt for a queued unit is the same wait.
		now := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		if got := p.nextAttempt(bibstat.StateQueued, tc.tries, tc.retryAfter, now); !got.Equal(now.Add(tc.want)) {
			t.Errorf("nextAttempt(queued, %d, %v) = %v, want %v", tc.tries, tc.retryAfter, got, now.Add(tc.want))
		}
	}
}
