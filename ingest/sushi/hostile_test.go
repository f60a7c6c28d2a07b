package sushi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
)

// endless is a vendor that starts a 200 report and never finishes it,
// trickling a byte now and then so that no idle timeout fires.
func endless(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"Report_Header":{"Report_Name":"Platform Report","Report_ID":"PR","Release":"5.1"},"Report_Items":[`))
		fl := w.(http.Flusher)
		fl.Flush()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				fl.Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hostileCred is a credential on srv; its secrets must stay out of every error.
func hostileCred(srv *httptest.Server) sushi.Credential {
	return sushi.Credential{ID: "2030100", Platform: "slow", Library: "2030100", BaseURL: srv.URL, Release: "5.1",
		CustomerID: "c1", APIKey: "s3cret-key"}
}

// TestHostileEndlessBody: the client gives up within its timeout with an
// error that says so, names the redacted URL and leaks no secret.
func TestHostileEndlessBody(t *testing.T) {
	srv := endless(t)
	const timeout = 500 * time.Millisecond
	cl := &sushi.Client{HTTP: &http.Client{Timeout: timeout}}
	m := bibstat.Month{Year: 2025, Mon: 1}
	start := time.Now()
	resp, err := cl.Report(context.Background(), hostileCred(srv), "pr", m, m)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("an endless body gave a response of %d bytes; want an error", len(resp.Body))
	}
	if took > timeout+2*time.Second {
		t.Errorf("gave up after %v; want about the %v timeout", took, timeout)
	}
	msg := err.Error()
	if !strings.Contains(msg, "read body of") || !strings.Contains(msg, "/r51/reports/pr") {
		t.Errorf("error %q: want it to say the body of the report URL failed", msg)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "Timeout") && !strings.Contains(msg, "deadline") {
		t.Errorf("error %q: want it to say it timed out", msg)
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("error leaks the api_key: %s", msg)
	}
	t.Logf("after %v: %v", took.Round(time.Millisecond), err)

	// The caller's context ends it too, when it comes first.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := (&sushi.Client{HTTP: &http.Client{Timeout: time.Hour}}).Report(ctx, hostileCred(srv), "pr", m, m); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("context deadline: err %v after %v", err, time.Since(start))
	}
}

// TestHostileEndlessBodyHarvest: the harvester records a unit whose body
// never ends as failed, with the timeout as its error, never ok, and goes
// on with the host's other units.
func TestHostileEndlessBodyHarvest(t *testing.T) {
	srv := endless(t)
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	st := store.NewMemory()
	h := &ingest.Harvester{Store: st, Ledger: led, Spacing: time.Millisecond,
		Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 300 * time.Millisecond}}}
	cred := hostileCred(srv)
	var jobs []ingest.Job
	for _, m := range []bibstat.Month{{Year: 2025, Mon: 1}, {Year: 2025, Mon: 2}} {
		jobs = append(jobs, ingest.Job{Unit: bibstat.Unit{Platform: cred.Platform, Credential: cred.ID, Report: "pr", Month: m}, Cred: cred})
	}
	start := time.Now()
	sum, err := h.Run(context.Background(), jobs)
	if err != nil {
		t.Fatalf("run: %v (a vendor's failure is a state, not an error)", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("harvest took %v", time.Since(start))
	}
	if sum.States[bibstat.StateFailed] != 2 || sum.States[bibstat.StateOK] != 0 {
		t.Errorf("states %v; want both units failed", sum.States)
	}
	for _, j := range jobs {
		e, ok := led.Get(j.Unit)
		if !ok {
			t.Fatalf("%s: not in the ledger", j.Unit)
		}
		if e.State != bibstat.StateFailed || e.LastError == "" || e.NextAttempt.IsZero() {
			t.Errorf("%s: state %s, error %q, next attempt %v; want failed with the error and a retry", j.Unit, e.State, e.LastError, e.NextAttempt)
		}
		if strings.Contains(e.LastError, "s3cret") {
			t.Errorf("ledger error leaks the api_key: %s", e.LastError)
		}
	}
	keys, _ := st.List(context.Background(), "")
	for _, k := range keys {
		if strings.HasPrefix(k, "parsed/") {
			t.Errorf("a parsed object %s for a body that never ended", k)
		}
	}
}
