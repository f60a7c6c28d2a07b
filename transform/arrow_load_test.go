package transform

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

// TestAChunkWithAHarvestThatDoesNotReadCountsTheRestOnce: rows go into
// DuckDB while they are parsed, so a chunk in which one harvest turns out
// not to read is rolled back and loaded again without it. The other
// harvests' uses count once, not once per attempt, and the broken one's
// unit keeps the facts it had.
func TestAChunkWithAHarvestThatDoesNotReadCountsTheRestOnce(t *testing.T) {
	st := world(t)
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	update := func() LoadSummary {
		t.Helper()
		sum, err := w.Update(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	update()
	total := func(month string) int64 { return avisRequests(t, w, month) }
	kept := total("2024-01")
	if kept == 0 || total("2023-05") != 0 || total("2023-06") != 0 {
		t.Fatalf("the world has %d in 2024-01, %d and %d in 2023-05 and -06; want some, none, none", kept, total("2023-05"), total("2023-06"))
	}
	at := t1.Add(time.Hour)
	broken := archiveRaw(t, st, "2030100", "2024-01", at, bibstat.StateOK, prBody("2024-01", "null"))
	archiveRaw(t, st, "2030100", "2023-05", at, bibstat.StateOK, prBody("2023-05", prItems("2023-05", 7)))
	archiveRaw(t, st, "2030100", "2023-06", at, bibstat.StateOK, prBody("2023-06", prItems("2023-06", 9)))
	sum := update()
	if len(sum.Failed) != 1 || sum.Failed[0].Key != broken || sum.Failed[0].Reason == "" {
		t.Errorf("failures %+v, want the broken harvest's, with why", sum.Failed)
	}
	if sum.Loaded != 2 || sum.Rows != 2 {
		t.Errorf("loaded %d units, %d rows; want 2 and 2", sum.Loaded, sum.Rows)
	}
	for month, want := range map[string]int64{"2024-01": kept, "2023-05": 7, "2023-06": 9} {
		if got := total(month); got != want {
			t.Errorf("%s: %d, want %d", month, got, want)
		}
	}
}

// avisRequests is library 2030100's Total_Item_Requests on avis in month.
func avisRequests(t *testing.T, w *Warehouse, month string) int64 {
	return query[int64](t, w.DB, `SELECT coalesce(sum(count), 0) FROM facts
		WHERE (library_id, platform, report_id, metric_type, month) = ('2030100', 'avis', 'PR', 'Total_Item_Requests', ?::DATE)`, month+"-01")
}
