package counter

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat/schemas"
)

// readRows reads in with small batches, returning the document and every
// emitted row (metric, month, count), so that a test can hold
// Document.Totals to the rows actually emitted.
func readRows(t testing.TB, name string, in []byte, opts Options) (*Document, []ruleRow, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Name, opts.Mem = name, mem
	if opts.BatchRows == 0 {
		opts.BatchRows = 2
	}
	var rows []ruleRow
	doc, err := Read(context.Background(), bytes.NewReader(in), opts, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		metrics := batchColumn[*array.String](t, rec, schemas.ColMetricType)
		months := batchColumn[*array.Date32](t, rec, schemas.ColMonth)
		counts := batchColumn[*array.Int64](t, rec, schemas.ColCount)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, ruleRow{metrics.Value(i), months.Value(i).ToTime().Format("2006-01"), counts.Value(i)})
		}
		return nil
	})
	return doc, rows, err
}

// batchColumn is the batch's one column called name, of type A.
func batchColumn[A arrow.Array](t testing.TB, rec arrow.RecordBatch, name string) A {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("batch has %d %q columns", len(idx), name)
	}
	col, ok := rec.Column(idx[0]).(A)
	if !ok {
		t.Fatalf("column %q is %T", name, rec.Column(idx[0]))
	}
	return col
}

// readSummed reads in, returning the number of rows emitted and the sum of
// their counts.
func readSummed(t testing.TB, name string, in []byte, opts Options) (*Document, int64, int64, error) {
	t.Helper()
	doc, rows, err := readRows(t, name, in, opts)
	var sum int64
	for _, r := range rows {
		sum += r.count
	}
	return doc, int64(len(rows)), sum, err
}

func sumTotals(d *Document) int64 {
	var n int64
	for _, v := range d.Totals {
		n += v
	}
	return n
}

// TestZeroOnlyWhenSaid holds the JSON reader to issue 14's rules: a bad
// structure or count is an error (never zero), values set aside are in
// Skipped, and only an empty Report_Items list under a header stating
// its period is Empty.
func TestZeroOnlyWhenSaid(t *testing.T) {
	tests := []struct {
		file    string
		partial bool
		err     string // substring of the error, "" for none
		errIs   error  // and what it must wrap, if anything
		cell    string // the CellError's Column, "" if no CellError
		value   string // and its Value
		rows    int64
		total   int64 // the sum of every metric's total
		empty   bool
		skipped int64
		warn    string // substring of some warning
		id      string // the Report_ID it is read as, "" to not check
	}{
		{file: "json-report-items-object.json", err: "Report_Items is an object, not a list"},
		{file: "json-report-items-null.json", err: "Report_Items is null, not a list"},
		{file: "json-report-items-string.json", err: "Report_Items is a string, not a list"},

		{file: "json-bad-count.json", errIs: ErrNotACount, cell: "2025-02", value: "x2"},
		{file: "json-bad-count.json", partial: true, rows: 3, total: 22, skipped: 1, warn: `value "x2"`},
		{file: "json-negative-count.json", errIs: ErrNotACount, cell: "2025-02", value: "-1"},
		{file: "json-fraction-count.json", errIs: ErrNotACount, cell: "2025-02", value: "1.5"},
		{file: "json-null-count.json", errIs: ErrNotACount, cell: "2025-02", value: "null"},
		{file: "json-null-count.json", partial: true, rows: 3, total: 22, skipped: 1, warn: `value "null"`},
		{file: "json-overflow-count.json", errIs: ErrOverflow, cell: "2025-02", value: "99999999999999999999999"},
		{file: "json-count-object.json", errIs: ErrNotACount, cell: "2025-02", value: "{…}"},
		{file: "json-count-array.json", errIs: ErrNotACount, cell: "2025-02", value: "[…]"},
		{file: "json-count-array.json", partial: true, rows: 1, total: 4, skipped: 1},

		{file: "json-two-month-period.json", rows: 2, total: 15, skipped: 1, warn: "2025-01-01 to 2025-02-28 is not one calendar month"},
		{file: "json-partial-month-period.json", rows: 1, total: 10, skipped: 1, warn: "2025-02-01 to 2025-02-14 is not one calendar month"},
		{file: "json-quarter-only.json", err: "2025-01-01 to 2025-03-31 is not one calendar month"},

		{file: "json-unknown-metric.json", rows: 1, total: 10, skipped: 2, warn: `"Total_Chapter_Request" is not a COUNTER Metric_Type`},
		{file: "json-unknown-metric-only.json", skipped: 1, warn: "Total_Chapter_Request"},
		{file: "json-out-of-period.json", skipped: 1, warn: "outside the reporting period"},

		{file: "json-empty-items.json", empty: true},
		{file: "json-empty-items-3030.json", empty: true},
		{file: "json-empty-items-3031.json"},
		{file: "json-empty-items-no-period.json"},
		{file: "json-no-items.json"},

		{file: "json-ir-components.json", rows: 2, total: 14, skipped: 2, warn: "breakdown", id: "IR"},
		{file: "json-reportid-mismatch.json", rows: 2, total: 15, warn: "disagrees with Report_Name", id: "TR"},
		{file: "json-reportid-view.json", rows: 2, total: 15, warn: "read as TR_J1", id: "TR_J1"},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.partial {
			name += "/partial"
		}
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(fixtures, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, rows, sum, err := readSummed(t, tt.file, in, Options{AcceptPartial: tt.partial})
			if tt.err != "" || tt.errIs != nil {
				if err == nil {
					t.Fatalf("no error; doc rows=%d totals=%v empty=%v", doc.Rows, doc.Totals, doc.Empty)
				}
				if !strings.HasPrefix(err.Error(), tt.file+": ") || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want one naming %s and saying %q", err, tt.file, tt.err)
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("err = %v, want errors.Is %v", err, tt.errIs)
				}
				var ce *CellError
				if tt.cell != "" {
					if !errors.As(err, &ce) {
						t.Fatalf("err = %v (%T), want a *CellError", err, err)
					}
					if ce.Column != tt.cell || ce.Value != tt.value || ce.Item == "" || ce.Name != tt.file {
						t.Errorf("CellError = %+v, want column %q value %q, an item and the name", ce, tt.cell, tt.value)
					}
				}
				if doc.Empty {
					t.Error("a document that failed is Empty")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Rows != tt.rows || rows != doc.Rows {
				t.Errorf("rows = %d (emitted %d), want %d", doc.Rows, rows, tt.rows)
			}
			if got := sumTotals(doc); got != tt.total || sum != got {
				t.Errorf("totals = %v (sum %d, emitted %d), want %d", doc.Totals, got, sum, tt.total)
			}
			if doc.Empty != tt.empty {
				t.Errorf("Empty = %v, want %v", doc.Empty, tt.empty)
			}
			if doc.Skipped != tt.skipped {
				t.Errorf("Skipped = %d, want %d", doc.Skipped, tt.skipped)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(doc.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q, want one saying %q", doc.Warnings, tt.warn)
			}
			if tt.id != "" && doc.ReportID != tt.id {
				t.Errorf("ReportID = %q, want %q", doc.ReportID, tt.id)
			}
		})
	}
}

func TestCountOf(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"12", 12, nil},
		{"1,000", 1000, nil},
		{"2.0", 2, nil},
		{"", 0, nil}, // a tabular empty cell; JSON refuses empties before asking
		{"x2", 0, ErrNotACount},
		{"-1", 0, ErrNotACount},
		{"1.5", 0, ErrNotACount},
		{"NaN", 0, ErrNotACount},
		{"Inf", 0, ErrNotACount},
		{"99999999999999999999", 0, ErrOverflow},
		{"1e30", 0, ErrOverflow},
	}
	for _, tt := range tests {
		got, err := parseCount([]byte(tt.in))
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("parseCount(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
