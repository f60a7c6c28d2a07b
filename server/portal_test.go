package server

import (
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
)

func TestBuildMatrix(t *testing.T) {
	entries := []ledger.Entry{
		{Library: "2030100", Platform: "a", Credential: "c", Report: "pr", Month: "2025-01", State: bibstat.StateOK},
		{Library: "2030100", Platform: "a", Credential: "c", Report: "dr", Month: "2025-01", State: bibstat.StateNotReady},
		{Library: "2030100", Platform: "a", Credential: "c", Report: "tr", Month: "2025-01", State: bibstat.StateOK},
		{Library: "2030100", Platform: "b", Credential: "c", Report: "pr", Month: "2025-02", State: bibstat.StateFailed},
	}
	m := buildMatrix(entries, 13)
	want := []struct{ lib, platform, text, class string }{
		{"2030100", "a", "not_ready 1 · ok 2", "not_ready"},
		{"2030100", "a", "", "missing"},
		{"2030100", "b", "", "missing"},
		{"2030100", "b", "failed 1", "failed"},
	}
	if len(m.Months) != 2 || len(m.Rows) != 2 {
		t.Fatalf("matrix %+v", m)
	}
	for i, w := range want {
		r := m.Rows[i/2]
		c := r.Cells[i%2]
		if r.Library != w.lib || r.Platform != w.platform || c.Text != w.text || c.Class != w.class {
			t.Errorf("row %s %s month %s: got %q (%s), want %q (%s)", r.Library, r.Platform, m.Months[i%2], c.Text, c.Class, w.text, w.class)
		}
	}
}
