package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

func planConfig(t *testing.T) *config.Config {
	t.Helper()
	t.Setenv("PLAN_TEST_KEY", "k")
	cfg := config.Default()
	cfg.Platforms = []config.Platform{{ID: "a", Name: "A", BaseURL: "https://a.example/sushi", Release: "5.1", Spacing: config.Duration(2 * time.Second)},
		{ID: "b", Name: "B", BaseURL: "https://b.example", Release: "5", Reports: []bibstat.ReportID{"pr", "dr"}, Host: "shared"}}
	cfg.Libraries = []config.Library{{Bibnr: "2030100", Name: "Oslo"}, {Bibnr: "2120100", Name: "Bergen"}}
	cfg.Credentials = []config.Credential{
		{Platform: "a", Library: "2030100", CustomerID: "c1", APIKey: "env:PLAN_TEST_KEY"},
		{Platform: "b", Library: "2030100", CustomerID: "c2", APIKey: "env:PLAN_TEST_KEY"},
		{Platform: "b", Library: "2120100", CustomerID: "c3", APIKey: "env:PLAN_TEST_MISSING"},
		{Platform: "a", Library: "2120100", CustomerID: "c4", Disabled: true},
	}
	cfg.Schedule.Start = "2025-01"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestPlan(t *testing.T) {
	cfg := planConfig(t)
	now := time.Date(2025, 7, 1, 2, 0, 0, 0, time.UTC)
	jobs, from, to, errs := Plan(cfg, PlanOptions{Now: now})
	if from.String() != "2025-01" || to.String() != "2025-06" {
		t.Fatalf("window %s..%s", from, to)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "PLAN_TEST_MISSING") {
		t.Fatalf("errs %v: want the unresolved secret named", errs)
	}
	// a: 1 report, b: 2 reports; one credential each usable; 6 months.
	if len(jobs) != 6*3 {
		t.Fatalf("%d jobs, want 18", len(jobs))
	}
	if jobs[0].Unit.Month != to {
		t.Errorf("first job %s: newest month first", jobs[0].Unit)
	}
	refresh := 0
	for _, j := range jobs {
		if j.Refresh {
			refresh++
			if j.Unit.Month.Before(bibstat.Month{Year: 2025, Mon: 4}) {
				t.Errorf("%s refreshed: only the last three months are", j.Unit)
			}
		}
		if j.Unit.Platform == "b" && (j.Host != "shared" || j.Spacing != 3*time.Second) {
			t.Errorf("%s host %q spacing %v", j.Unit, j.Host, j.Spacing)
		}
		if j.Unit.Platform == "a" && (j.Host != "a.example" || j.Spacing != 2*time.Second) {
			t.Errorf("%s host %q spacing %v", j.Unit, j.Host, j.Spacing)
		}
	}
	if refresh != 3*3 {
		t.Errorf("%d refresh jobs, want 9", refresh)
	}
	jobs, _, _, _ = Plan(cfg, PlanOptions{Now: now, Platform: "a", From: bibstat.Month{Year: 2025, Mon: 5}})
	if len(jobs) != 2 {
		t.Errorf("filtered: %d jobs, want 2", len(jobs))
	}
}

func TestHarvestLogsNoSecrets(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1", sushisim.Fault{Kind: sushisim.FaultBadKey, Month: feb}, sushisim.Fault{Kind: sushisim.FaultServerError, Month: mar})
	var buf bytes.Buffer
	r.h.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.srv.Close() // first a transport failure for every unit
	if _, err := r.h.Run(context.Background(), r.jobs(lib, "5.1", jan)); err != nil {
		t.Fatal(err)
	}
	r2 := newRig(t, "5.1", sushisim.Fault{Kind: sushisim.FaultBadKey, Month: feb}, sushisim.Fault{Kind: sushisim.FaultServerError, Month: mar})
	r2.h.Log = r.h.Log
	if _, err := r2.h.Run(context.Background(), r2.jobs(lib, "5.1", jan, feb, mar)); err != nil {
		t.Fatal(err)
	}
	key := r.world.APIKey("avis", lib)
	if buf.Len() == 0 || strings.Contains(buf.String(), key) {
		t.Errorf("log (%d bytes) holds the api_key or is empty:\n%s", buf.Len(), buf.String())
	}
	for _, e := range append(r.led.All(), r2.led.All()...) {
		if strings.Contains(e.LastError, key) {
			t.Errorf("ledger error holds the api_key: %s", e.LastError)
		}
	}
	assertNoSecret(t, r2, key)
}
