package ingest

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// TestDueByHostGroups checks that the per-credential shortcuts of
// dueByHost group every job under its own host, in the order given: a
// credential whose base moves between jobs, a job's own Host, a base that
// is not a URL.
func TestDueByHostGroups(t *testing.T) {
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	a := sushi.Credential{ID: "1", Platform: "p", BaseURL: "https://a.example/sushi", Release: "5.1", CustomerID: "c"}
	moved := a
	moved.BaseURL = "https://b.example/sushi"
	odd := sushi.Credential{ID: "2", Platform: "p", BaseURL: "not a url", Release: "5.1", CustomerID: "c"}
	var jobs []Job
	for m := 1; m <= 4; m++ {
		u := func(c sushi.Credential, r bibstat.ReportID) bibstat.Unit {
			return bibstat.Unit{Platform: c.Platform, Credential: c.ID, Report: r, Month: bibstat.Month{Year: 2025, Mon: time.Month(m)}}
		}
		jobs = append(jobs, Job{Unit: u(a, "pr"), Cred: a}, Job{Unit: u(moved, "dr"), Cred: moved},
			Job{Unit: u(a, "tr"), Cred: a, Host: "shared"}, Job{Unit: u(odd, "pr"), Cred: odd})
	}
	h := &Harvester{Ledger: led}
	sum := Summary{SkipReasons: map[string]int{}}
	got := h.dueByHost(jobs, &sum)

	want := map[string][]*Job{}
	for i := range jobs {
		want[jobs[i].host()] = append(want[jobs[i].host()], &jobs[i])
	}
	if len(got) != 4 || len(got) != len(want) {
		t.Fatalf("%d hosts, want 4 (%d)", len(got), len(want))
	}
	for host, js := range want {
		if !slices.Equal(got[host], js) {
			t.Errorf("host %q: %d jobs, want %d in the order given", host, len(got[host]), len(js))
		}
	}
	if sum.Skipped != 0 {
		t.Errorf("skipped %d, want none", sum.Skipped)
	}
}
