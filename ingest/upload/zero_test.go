package upload

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/store"
)

const uploadFiles = "../../testdata/upload"

func readUploadFixture(t *testing.T, name string) []byte {
	t.Helper()
	return readFixtureIn(t, uploadFiles, name)
}

// unitTotals sums what the warehouse would load per unit: the newest
// loadable sidecar's parsed rows.
func unitTotals(t *testing.T, st Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for u, side := range newestPerUnit(t, st) {
		tot, err := (&Ingester{Store: st}).loadedTotals(context.Background(), side)
		if err != nil {
			t.Fatal(err)
		}
		out[u] = sumOf(tot)
	}
	return out
}

// isEmpty says whether counter reads data as Empty: until the readers
// mark it, a test of a positive "no usage" is skipped, not failed.
func isEmpty(t *testing.T, data []byte) bool {
	doc, err := counter.Read(context.Background(), bytes.NewReader(data), counter.Options{}, nil)
	return err == nil && doc.Empty
}

// TestUploadZeroOnlyWhenTheFileSaysSo: each fixture's outcome, and the
// units it writes, zero ones only where the vendor positively says so.
func TestUploadZeroOnlyWhenTheFileSaysSo(t *testing.T) {
	tests := []struct {
		file    string
		partial bool // --accept-partial
		status  Status
		reason  []string // parts of the reason
		units   int      // units written
		zero    int      // of them zero
		empty   bool     // needs counter's Empty
	}{
		{file: "pr_q1.tsv", status: StatusLoaded, units: 3},
		{file: "pr_q1_march_only.tsv", status: StatusLoaded, units: 3, zero: 2},
		{file: "pr_q1_dated_q2.tsv", status: StatusLoaded, units: 3}, // month headings by position
		{file: "pr_q1_not_ready.tsv", status: StatusLoaded, units: 2},
		{file: "pr_q1_empty.tsv", status: StatusLoaded, units: 3, zero: 3, empty: true},
		{file: "pr_2025.json", status: StatusLoaded, units: 12},
		{file: "pr_2025_empty.json", status: StatusLoaded, units: 12, zero: 12, empty: true},
		{file: "pr_q1_unknown_metric.tsv", status: StatusRejected, reason: []string{"set aside", "Regular Searches"}},
		{file: "pr_q1_bad_cell.tsv", status: StatusRejected, reason: []string{"pr_q1_bad_cell.tsv", "row 16", "Feb-2025", "x2", "--accept-partial"}},
		{file: "pr_q1_bad_cell.tsv", partial: true, status: StatusPartial, units: 3},
		{file: "queued_1011.json", status: StatusRejected, reason: []string{"exception-only", "1011"}},
		{file: "pr_queued_in_report.json", status: StatusRejected, reason: []string{"1011", "not taken for zero"}},
		{file: "pr_2025_items_null.json", status: StatusRejected, reason: []string{"Report_Items"}},
		{file: "pr_2025_dated_2024.json", status: StatusRejected, reason: []string{"set aside", "2024-01"}},
	}
	for _, tc := range tests {
		name := tc.file
		if tc.partial {
			name += "/accept-partial"
		}
		t.Run(name, func(t *testing.T) {
			data := readUploadFixture(t, tc.file)
			if tc.empty && !isEmpty(t, data) {
				t.Skip("counter does not mark this file Empty yet")
			}
			st := store.NewMemory()
			in := &Ingester{Store: st, By: "kari", Now: clock(), AcceptPartial: tc.partial}
			out, err := in.Ingest(context.Background(), File{Name: tc.file, Data: data, Vendor: "avis"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status {
				t.Fatalf("status %s (%s), want %s", out.Status, out.Reason, tc.status)
			}
			for _, r := range tc.reason {
				if !strings.Contains(out.Reason, r) {
					t.Errorf("reason %q lacks %q", out.Reason, r)
				}
			}
			units := newestPerUnit(t, st)
			zero := 0
			for _, s := range units {
				if s.State == bibstat.StateZero {
					zero++
				}
			}
			if len(units) != tc.units || zero != tc.zero || len(out.Units) != tc.units {
				t.Errorf("%d units (%d in the outcome), %d zero; want %d, %d zero", len(units), len(out.Units), zero, tc.units, tc.zero)
			}
			rec := readSidecar(t, st, out.RawKey+FileRecordSuffix)
			if tc.status == StatusRejected && (rec.State != bibstat.StateFailed || rec.Error != out.Reason) {
				t.Errorf("file record %s %q, want failed with the reason", rec.State, rec.Error)
			}
			if tc.partial && (rec.Upload == nil || len(rec.Upload.RejectedRows) == 0 || !strings.Contains(strings.Join(rec.Upload.RejectedRows, "\n"), "x2")) {
				t.Errorf("the bad cell is not kept in the file record: %+v", rec.Upload)
			}
		})
	}
}

// TestBadUploadSupersedesNothing: a year of usage loaded, then each bad
// file for the same vendor and library: every unit keeps its usage. A
// positive "no usage" for the year is the one file that may zero it, and
// its dry run says so before it happens.
func TestBadUploadSupersedesNothing(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"queued_1011.json", "pr_queued_in_report.json", "pr_2025_items_null.json", "pr_2025_dated_2024.json", "pr_q1_unknown_metric.tsv", "pr_q1_bad_cell.tsv"} {
		t.Run(bad, func(t *testing.T) {
			st := store.NewMemory()
			in := &Ingester{Store: st, By: "kari", Now: clock()}
			if out, err := in.Ingest(ctx, File{Name: "pr_2025.json", Data: readUploadFixture(t, "pr_2025.json"), Vendor: "avis"}); err != nil || out.Status != StatusLoaded {
				t.Fatalf("%v %+v", err, out)
			}
			before := unitTotals(t, st)
			out, err := in.Ingest(ctx, File{Name: bad, Data: readUploadFixture(t, bad), Vendor: "avis"})
			if err != nil || out.Status != StatusRejected {
				t.Fatalf("%v %s %q", err, out.Status, out.Reason)
			}
			after := unitTotals(t, st)
			for u, n := range before {
				if after[u] != n {
					t.Errorf("%s: %d → %d", u, n, after[u])
				}
			}
		})
	}

	t.Run("dry run of a year of zero", func(t *testing.T) {
		data := readUploadFixture(t, "pr_2025_empty.json")
		if !isEmpty(t, data) {
			t.Skip("counter does not mark this file Empty yet")
		}
		st := store.NewMemory()
		in := &Ingester{Store: st, By: "kari", Now: clock()}
		if _, err := in.Ingest(ctx, File{Name: "pr_2025.json", Data: readUploadFixture(t, "pr_2025.json"), Vendor: "avis"}); err != nil {
			t.Fatal(err)
		}
		dry := &Ingester{Store: st, By: "kari", Now: clock(), DryRun: true}
		out, err := dry.Ingest(ctx, File{Name: "nothing.json", Data: data, Vendor: "avis"})
		if err != nil || out.Status != StatusLoaded || len(out.Changes) != 12 {
			t.Fatalf("%v %+v", err, out)
		}
		text := Explain(out)
		if !strings.Contains(text, "restate 12 (12 of them from usage to zero)") || !strings.Contains(text, "120 → 0  WARNING: usage becomes zero") {
			t.Errorf("the dry run does not show the year becoming zero:\n%s", text)
		}
	})
}

func TestDryRunShowsOldAndNew(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	in := &Ingester{Store: st, By: "kari", Now: clock()}
	if _, err := in.Ingest(ctx, File{Name: "pr_q1.tsv", Data: readUploadFixture(t, "pr_q1.tsv"), Vendor: "avis"}); err != nil {
		t.Fatal(err)
	}
	dry := &Ingester{Store: st, By: "kari", Now: clock(), DryRun: true}
	out, err := dry.Ingest(ctx, File{Name: "pr_2025.json", Data: readUploadFixture(t, "pr_2025.json"), Vendor: "avis"})
	if err != nil || len(out.Changes) != 12 {
		t.Fatalf("%v %+v", err, out)
	}
	text := Explain(out)
	for _, want := range []string{"would add 9 units, restate 3\n", "restate 2030100 2025-01 PR: 11 → 10\n", "add     2030100 2025-12 PR: - → 120\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("dry run lacks %q:\n%s", want, text)
		}
	}
	if keys := listKeys(t, st, bibstat.UploadFilesPrefix("avis")); len(keys) != 2 {
		t.Errorf("the dry run stored something: %v", keys)
	}
}
