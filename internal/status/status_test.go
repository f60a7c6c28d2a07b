package status

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/config"
)

var now = time.Date(2025, 7, 15, 12, 0, 0, 0, time.UTC)

func entry(lib, month string, st bibstat.State, why string) ledger.Entry {
	return ledger.Entry{Platform: "avis", Credential: lib, Library: bibstat.LibraryID(lib), Report: "pr",
		Month: month, State: st, Attempts: 1, LastError: why}
}

func TestBuild(t *testing.T) {
	entries := []ledger.Entry{
		entry("1", "2025-01", bibstat.StateOK, ""),
		entry("1", "2025-02", bibstat.StateZero, ""),
		entry("1", "2025-03", bibstat.StateFailed, "asked for 2025-03, usage dated 2025-04"),
		entry("1", "2025-04", bibstat.StateFailed, ""),
		entry("2", "2025-01", bibstat.StateCredentialsBroken, "2010 Requestor Not Authorized"),
		entry("1", "garbage", bibstat.StateOK, ""),
	}
	cfg := &config.Config{
		Platforms:   []config.Platform{{ID: "avis"}},
		Credentials: []config.Credential{{Platform: "avis", Library: "1"}, {Platform: "avis", Library: "2"}, {Platform: "avis", Library: "3", Disabled: true}},
		Schedule:    config.Schedule{Start: "2025-01"},
	}
	tests := []struct {
		name                  string
		cfg                   *config.Config
		o                     Options
		cells, missing, block int
		totals                map[bibstat.State]int
	}{
		{"ledger only", nil, Options{}, 5, 0, 0, map[bibstat.State]int{"ok": 1, "zero": 1, "failed": 2, "credentials_broken": 1}},
		{"with config", cfg, Options{}, 12, 2, 5, map[bibstat.State]int{"ok": 1, "zero": 1, "failed": 2, "credentials_broken": 1}},
		{"one library", cfg, Options{Library: "2"}, 6, 0, 5, map[bibstat.State]int{"credentials_broken": 1}},
		{"months", nil, Options{From: bibstat.Month{Year: 2025, Mon: 2}, To: bibstat.Month{Year: 2025, Mon: 3}}, 2, 0, 0, map[bibstat.State]int{"zero": 1, "failed": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Build(tt.cfg, entries, tt.o, now)
			if len(rep.Cells) != tt.cells || rep.Missing != tt.missing || rep.Blocked != tt.block {
				t.Errorf("cells %d missing %d blocked %d, want %d %d %d", len(rep.Cells), rep.Missing, rep.Blocked, tt.cells, tt.missing, tt.block)
			}
			if len(rep.Totals) != len(tt.totals) {
				t.Errorf("totals %v, want %v", rep.Totals, tt.totals)
			}
			for st, n := range tt.totals {
				if rep.Totals[st] != n {
					t.Errorf("totals %v, want %v", rep.Totals, tt.totals)
				}
			}
			g := rep.Grid()
			n := 0
			for _, c := range g.Totals {
				n += c
			}
			if want := rep.Missing + rep.Blocked + len(entries) - 1; tt.name == "with config" && n != want {
				t.Errorf("grid counts %d units, want %d", n, want)
			}
		})
	}
}

// A failed unit is never shown as zero: its cell's worst state is failed,
// and it is listed with its reason, one there when the ledger kept none.
func TestFailedHasReason(t *testing.T) {
	entries := []ledger.Entry{
		entry("1", "2025-03", bibstat.StateZero, ""),
		{Platform: "avis", Credential: "1", Library: "1", Report: "dr", Month: "2025-03", State: bibstat.StateFailed, Attempts: 5},
		{Platform: "avis", Credential: "1", Library: "1", Report: "tr", Month: "2025-03", State: bibstat.StateFailed, Attempts: 1,
			LastError: "asked for 2025-03, usage dated 2025-04", NextAttempt: now.Add(time.Hour)},
	}
	rep := Build(nil, entries, Options{}, now)
	g := rep.Grid()
	if w, _ := g.Rows[0].Cells[0].Worst(); w != bibstat.StateFailed {
		t.Errorf("worst %q, want failed", w)
	}
	if len(rep.Cells) != 1 || len(rep.Cells[0].Problems) != 2 {
		t.Fatalf("cells %+v", rep.Cells)
	}
	for _, p := range rep.Cells[0].Problems {
		if p.State != bibstat.StateFailed || p.Reason == "" {
			t.Errorf("problem %+v: want failed with a reason", p)
		}
	}
	if p := rep.Cells[0].Problems[1]; p.Reason != "asked for 2025-03, usage dated 2025-04" {
		t.Errorf("reason %q", p.Reason)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reason":"asked for 2025-03, usage dated 2025-04"`) || !strings.Contains(string(b), noReason) {
		t.Errorf("json lacks the reasons: %s", b)
	}
}
