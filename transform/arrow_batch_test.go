package transform

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/bibliotek24/bibstat/schemas"
)

// usageBatch is one row per source key in keys, counting 1, 2, ….
func usageBatch(t *testing.T, keys ...string) arrow.RecordBatch {
	t.Helper()
	var out arrow.RecordBatch
	bt := schemas.NewBatcher(nil, 0, func(rec arrow.RecordBatch) error { out = rec; return nil })
	defer bt.Release()
	for i, k := range keys {
		r := schemas.Row{SourceKey: k, Month: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Count: int64(i + 1)}
		if err := bt.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// factsRows is each row of recs as "unit_key library_id count".
func factsRows(t *testing.T, recs []arrow.RecordBatch) []string {
	t.Helper()
	var out []string
	for _, rec := range recs {
		if !rec.Schema().Equal(factsSchema) {
			t.Fatalf("schema %v, want factsSchema", rec.Schema())
		}
		n := len(rec.Columns())
		units, libs := rec.Column(n-2).(*array.String), rec.Column(n-1).(*array.String)
		counts := rec.Column(schemas.Usage.FieldIndices(schemas.ColCount)[0]).(*array.Int64)
		for i := range int(rec.NumRows()) {
			out = append(out, units.Value(i)+" "+libs.Value(i)+" "+string(rune('0'+counts.Value(i))))
		}
	}
	return out
}

// TestWithUnitsKeepsTheChunksUnitsOnly: an upload's file holds rows of
// units the chunk does not load; they are left out, and every other row
// goes with its own unit, joined into batches of at least min rows.
func TestWithUnitsKeepsTheChunksUnitsOnly(t *testing.T) {
	var sent []arrow.RecordBatch
	c := coalescer{min: 3, send: func(rec arrow.RecordBatch) error { sent = append(sent, rec); return nil }}
	units := map[string]unitRef{"a": {"ua", "1"}, "c": {"uc", "3"}}
	add := func(rec arrow.RecordBatch, u unitRef) error { return c.add(withUnit(rec, u)) }
	if err := withUnits(usageBatch(t, "a", "a", "b", "c", "b", "a"), units, add); err != nil {
		t.Fatal(err)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	got := factsRows(t, sent)
	want := []string{"ua 1 1", "ua 1 2", "uc 3 4", "ua 1 6"}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
	if len(sent) != 2 || sent[0].NumRows() != 3 {
		t.Errorf("%d batches (the first of %d rows), want one of 3 and the rest", len(sent), sent[0].NumRows())
	}
}

// TestCoalescerPassesALargeBatchAsItIs: a batch of min rows or more is not
// copied.
func TestCoalescerPassesALargeBatchAsItIs(t *testing.T) {
	var sent []arrow.RecordBatch
	c := coalescer{min: 2, send: func(rec arrow.RecordBatch) error { sent = append(sent, rec); return nil }}
	big := withUnit(usageBatch(t, "a", "a"), unitRef{"ua", "1"})
	if err := c.add(big); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0] != big || len(c.held) != 0 {
		t.Errorf("sent %d batches, held %d; want the batch itself, none held", len(sent), len(c.held))
	}
}
