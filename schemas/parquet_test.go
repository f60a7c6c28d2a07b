package schemas

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetOf's file reads back as the rows it was given, an empty one as a
// file of no rows, and a row it cannot take is an error, not a shorter file.
func TestParquetOfRoundTrip(t *testing.T) {
	jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		rows    []Row
		wantErr bool
	}{
		{"rows", []Row{
			{Release: "5.1", ReportID: "TR", Platform: "avis", Title: "Aftenposten", MetricType: "Total_Item_Requests", YOP: 2020, HasYOP: true, Month: jan, Count: 7, SourceKey: "k"},
			{Release: "5.1", ReportID: "PR", Platform: "avis", MetricType: "Searches_Platform", Month: jan.AddDate(0, 1, 0), Count: 0},
		}, false},
		{"none", nil, false},
		{"a row without a month", []Row{{ReportID: "PR", Count: 3}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParquetOf(tc.rows)
			if tc.wantErr {
				if err == nil || b != nil {
					t.Fatalf("ParquetOf = %d bytes, %v; want an error", len(b), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := readParquet(t, b)
			if len(got) != len(tc.rows) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(tc.rows))
			}
			for i, want := range tc.rows {
				if got[i] != want {
					t.Errorf("row %d: read %+v, wrote %+v", i, got[i], want)
				}
			}
		})
	}
}

// readParquet reads a Usage Parquet file's rows, copied out of Arrow.
func readParquet(t *testing.T, b []byte) []Row {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	var out []Row
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			var r Row
			r.SetFrom(rec, i)
			for _, f := range r.texts() {
				*f = strings.Clone(*f) // SetFrom's texts live only as long as rec
			}
			out = append(out, r)
		}
	}
	return out
}
