package transform

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// archiveRaw stores a harvest's raw body and a sidecar saying st, with no
// parsed rows: the load parses the body itself, as for every SUSHI harvest.
func archiveRaw(t *testing.T, st store.Store, lib bibstat.LibraryID, month string, at time.Time, state bibstat.State, body string) string {
	t.Helper()
	m, err := bibstat.ParseMonth(month)
	if err != nil {
		t.Fatal(err)
	}
	u := bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: m}
	key := u.RawKey(at, "json")
	side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: "avis", Credential: string(lib), Library: lib,
		Report: "pr", Month: month, HarvestedAt: at, State: state}
	js, err := bibstat.EncodeSidecar(side)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string][]byte{key: []byte(body), bibstat.SidecarKey(key): js} {
		if err := st.Put(context.Background(), k, bytes.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	return key
}

// prBody is an R5.1 PR for month m with its Report_Items JSON.
func prBody(m, items string) string {
	return fmt.Sprintf(`{"Report_Header":{"Report_Name":"Platform Report","Report_ID":"PR","Release":"5.1","Institution_Name":"Oslo",
"Customer_ID":"2030100","Report_Filters":{"Begin_Date":"%s-01","End_Date":"%s-28"},"Created":"2024-03-01T00:00:00Z","Created_By":"Test"},
"Report_Items":%s}`, m, m, items)
}

func prItems(m string, n int) string {
	return fmt.Sprintf(`[{"Platform":"avis","Attribute_Performance":[{"Data_Type":"Newspaper_or_Newsletter","Access_Method":"Regular",
"Performance":{"Total_Item_Requests":{"%s":%d}}}]}]`, m, n)
}

// TestLoadNeverReplacesUsageWithNothing: a harvest whose sidecar says
// loadable but whose body reads to nothing (or not at all) is a load
// failure; the unit keeps its facts or loads its newest older harvest that
// reads. Only the vendor's "no usage" (3030, an empty report) empties it.
func TestLoadNeverReplacesUsageWithNothing(t *testing.T) {
	ctx := context.Background()
	st := world(t)
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	if _, err := w.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	total := func(month string) int64 {
		return query[int64](t, w.DB, `SELECT coalesce(sum(count), 0) FROM facts WHERE library_id = '2030100' AND platform = 'avis'
			AND report_id = 'PR' AND metric_type = 'Total_Item_Requests' AND month = ?`, month+"-01")
	}
	step := func(name string, month string, at time.Time, state bibstat.State, body string, want int64, failed int) {
		t.Helper()
		archiveRaw(t, st, "2030100", month, at, state, body)
		sum, err := w.Update(ctx, st)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := total(month); n != want {
			t.Errorf("%s: %s total %d, want %d", name, month, n, want)
		}
		if len(sum.Failed) != failed {
			t.Errorf("%s: %d load failures %+v, want %d", name, len(sum.Failed), sum.Failed, failed)
		}
		for _, f := range sum.Failed {
			if f.Reason == "" || !strings.HasPrefix(f.Key, "raw/") {
				t.Errorf("%s: failure without its key or reason: %+v", name, f)
			}
		}
	}
	at := func(h int) time.Time { return t1.Add(time.Duration(h) * time.Hour) }
	step("Report_Items null", "2024-01", at(1), bibstat.StateOK, prBody("2024-01", "null"), 20, 1)
	step("Report_Items an object", "2024-01", at(2), bibstat.StateZero, prBody("2024-01", `{"Platform":"avis"}`), 20, 2)
	step("not JSON", "2024-01", at(3), bibstat.StateOK, `{"Report_Header":`, 20, 3)
	step("usage dated another month", "2024-01", at(4), bibstat.StateOK, prBody("2024-01", prItems("2024-02", 5)), 20, 4)
	step("a restatement that reads", "2024-01", at(5), bibstat.StateOK, prBody("2024-01", prItems("2024-01", 25)), 25, 0)
	// The broken ones are older now: only a newer broken one fails, and
	// fails again on every load until a harvest that reads is newer.
	step("broken after the restatement", "2024-01", at(6), bibstat.StateOK, prBody("2024-01", "null"), 25, 1)
	step("a new month whose only harvest is broken", "2024-03", at(7), bibstat.StateOK, prBody("2024-03", "null"), 0, 2)
	step("3030", "2024-01", at(8), bibstat.StateZero, `{"Code":3030,"Message":"No Usage Available for Requested Dates"}`, 0, 1)
}
