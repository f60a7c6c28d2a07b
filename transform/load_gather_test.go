package transform

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/schemas"
)

// unitBatches are n units' batches of Usage of 0–gatherMaxRows+2 rows
// (the largest past gatherMaxRows), texts empty or not, YOP null or not.
func unitBatches(t *testing.T, rng *rand.Rand, n int) ([]arrow.RecordBatch, []unitRef) {
	t.Helper()
	var recs []arrow.RecordBatch
	var units []unitRef
	for u := range n {
		rows := rng.IntN(8)
		if u%7 == 3 {
			rows = gatherMaxRows + 1 + rng.IntN(2)
		}
		bt := schemas.NewBatcher(nil, rows+1, func(rec arrow.RecordBatch) error {
			recs = append(recs, rec)
			units = append(units, unitRef{key: fmt.Sprintf("raw/p%d/u%d", u%3, u), library: fmt.Sprint(u % 5)})
			return nil
		})
		for i := range rows {
			var r schemas.Row
			r.Platform, r.MetricType, r.SourceKey = fmt.Sprint("p", u%3), "Total_Item_Requests", fmt.Sprint("raw/", u)
			if rng.IntN(2) == 0 {
				r.Title, r.DataType = fmt.Sprintf("Title %d.%d ø", u, i), "Book"
			}
			if r.HasYOP = rng.IntN(3) == 0; r.HasYOP {
				r.YOP = int32(1900 + rng.IntN(125))
			}
			r.Month = time.Date(2024, time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
			r.Count = rng.Int64N(1000)
			if err := bt.Add(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := bt.Flush(); err != nil {
			t.Fatal(err)
		}
		bt.Release()
	}
	return recs, units
}

// TestGatherJoinsAsConcatenate: the rows the gatherer sends are the rows
// withUnit and the coalescer (array.Concatenate) send, in the same order,
// whatever the batches' sizes.
func TestGatherJoinsAsConcatenate(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		recs, units := unitBatches(t, rng, 1+rng.IntN(60))
		size := 1 + rng.IntN(40)
		var want, got []arrow.RecordBatch
		c := coalescer{min: int64(size), send: func(rec arrow.RecordBatch) error { want = append(want, rec); return nil }}
		// As emitting does: a big batch is joined whole beside the gatherer.
		small := coalescer{min: int64(size), send: func(rec arrow.RecordBatch) error { got = append(got, rec); return nil }}
		g := newGatherer(size, small.send)
		for i, rec := range recs {
			rec.Retain()
			if err := c.add(withUnit(rec, units[i])); err != nil {
				t.Fatal(err)
			}
			if rec.NumRows() > gatherMaxRows {
				if err := small.add(withUnit(rec, units[i])); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := g.add(rec, units[i]); err != nil {
				t.Fatal(err)
			}
		}
		for _, err := range []error{c.flush(), g.flush(), small.flush()} {
			if err != nil {
				t.Fatal(err)
			}
		}
		g.release()
		if w, o := rowsOf(t, want), rowsOf(t, got); !sameMultiset(w, o) {
			t.Errorf("seed %d: gathered rows differ from concatenated ones:\n got %d rows\nwant %d rows", seed, len(o), len(w))
		}
		for _, rec := range append(want, got...) {
			rec.Release()
		}
	}
}

// rowsOf writes every row of recs, of factsSchema, as text.
func rowsOf(t *testing.T, recs []arrow.RecordBatch) []string {
	t.Helper()
	var out []string
	for _, rec := range recs {
		if !rec.Schema().Equal(factsSchema) {
			t.Fatalf("schema %s, want factsSchema", rec.Schema())
		}
		for i := range int(rec.NumRows()) {
			s := ""
			for _, col := range rec.Columns() {
				s += col.ValueStr(i) + "\t"
				if col.IsNull(i) {
					s += "(null)"
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// sameMultiset says a and b hold the same rows as often: the stream's
// order of rows is not kept (facts have none).
func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		if n[s]--; n[s] < 0 {
			return false
		}
	}
	return true
}
