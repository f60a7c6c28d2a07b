package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
)

func TestLedgerMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	for i, st := range []bibstat.State{bibstat.StateOK, bibstat.StateOK, bibstat.StateFailed} {
		e := ledger.Entry{Platform: "a", Credential: "2030100", Report: "pr", Month: "2025-0" + string(rune('1'+i)), State: st, UpdatedAt: at}
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&ledgerCollector{path: path})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "bibstat_ledger_units" {
			continue
		}
		for _, m := range f.GetMetric() {
			units[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if len(units) != len(bibstat.States()) {
		t.Errorf("units by state %v: want every state", units)
	}
	if units["ok"] != 2 || units["failed"] != 1 || units["queued"] != 0 {
		t.Errorf("units by state %v", units)
	}
}
