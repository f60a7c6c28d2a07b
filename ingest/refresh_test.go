package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// TestRefreshNeverLosesLoadedUsage: a month harvested ok and refreshed at
// night against a vendor whose answer is broken or dated another month
// fails, is retried, and the warehouse still loads the first harvest.
func TestRefreshNeverLosesLoadedUsage(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	bodies := map[string]func(cust string) []byte{
		"Report_Items an object": func(c string) []byte { return prFor(c, "2025-01", `{"Platform":"Avis"}`) },
		"Report_Items null":      func(c string) []byte { return prFor(c, "2025-01", `null`) },
		"counts as objects":      func(c string) []byte { return prFor(c, "2025-01", item(`{"2025-01":{"n":5}}`)) },
		"counts as arrays":       func(c string) []byte { return prFor(c, "2025-01", item(`{"2025-01":[5]}`)) },
		"usage dated next month": func(c string) []byte { return prFor(c, "2025-01", item(`{"2025-02":5}`)) },
		"3032": func(c string) []byte {
			return []byte(`{"Code":3032,"Message":"Usage No Longer Available for Requested Dates"}`)
		},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "5.1")
			now := time.Date(2025, 2, 3, 2, 0, 0, 0, time.UTC)
			r.h.Now = func() time.Time { return now }
			jobs := r.jobs(lib, "5.1", jan)
			if _, err := r.h.Run(context.Background(), jobs); err != nil {
				t.Fatal(err)
			}
			u := jobs[0].Unit
			first, _ := r.led.Get(u)
			want := r.loaded(t, u)
			if first.State != bibstat.StateOK || len(want) == 0 {
				t.Fatalf("first harvest: %+v %v", first, want)
			}

			r.h.Fetcher = fixedFetcher{sushi.Response{Status: 200, ContentType: "application/json", Body: body(r.world.CustomerID(lib))}}
			now = now.Add(DefaultPolicy.RefreshAge + time.Hour)
			jobs[0].Refresh = true
			if _, err := r.h.Run(context.Background(), jobs); err != nil {
				t.Fatal(err)
			}
			e, _ := r.led.Get(u)
			if e.State != bibstat.StateFailed || e.LastError == "" || e.NextAttempt.IsZero() {
				t.Fatalf("refresh: state %s (%q), next %v; want failed with a reason, retried", e.State, e.LastError, e.NextAttempt)
			}
			if name == "usage dated next month" && !strings.Contains(e.LastError, "asked for 2025-01") {
				t.Errorf("reason %q does not say what was asked", e.LastError)
			}
			if e.RawKey != first.RawKey {
				t.Errorf("the ledger points at %s, want the loaded harvest %s", e.RawKey, first.RawKey)
			}
			got := r.loaded(t, u)
			for m, n := range want {
				if got[m] != n {
					t.Errorf("after the refresh %s = %d, want %d", m, got[m], n)
				}
			}
		})
	}
}

// prFor is pr51 for the simulator's customer id cust and month m.
func prFor(cust, m, items string) []byte {
	b := pr51(m, m+"-31", items, "")
	return []byte(strings.Replace(string(b), `"Customer_ID":"c1"`, `"Customer_ID":"`+cust+`"`, 1))
}
