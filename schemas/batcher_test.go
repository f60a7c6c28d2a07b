package schemas

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// date32 must agree with arrow.Date32FromTime for every instant, in any
// zone, before 1970 and before year 1 too.
func TestDate32MatchesArrow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("x", -11*3600-1), time.FixedZone("y", 14*3600)}
	check := func(tm time.Time) {
		if got, want := date32(tm), arrow.Date32FromTime(tm); got != want {
			t.Fatalf("date32(%v) = %d, arrow says %d", tm, got, want)
		}
	}
	for _, s := range []int64{0, -1, 1, 86399, 86400, -86400, -86401, -62135596800, -62135596801, 253402300799} {
		for _, z := range zones {
			check(time.Unix(s, 0).In(z))
			check(time.Unix(s, 999_999_999).In(z))
		}
	}
	for range 100_000 {
		s := rng.Int64N(2*400*365*86400) - 400*365*86400*1
		check(time.Unix(s*10, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]))
	}
}

// The Batcher's batches hold exactly the rows added, whatever mix of
// empty and filled text, repeated and changing rows, and batch size:
// compared with Arrow's own builders fed the same rows (the Batcher's way
// before its offsets were written lazily and the empty columns shared one
// zeroed buffer).
func TestBatcherMatchesArrowBuilders(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"", "", "", "a", "Aftenposten", "Journal of Synthetic Studies 12", "æøå", strings.Repeat("x", 40)}
	for round := range 200 {
		size := 1 + rng.IntN(9)
		var got []arrow.RecordBatch
		bt := NewBatcher(nil, size, func(rec arrow.RecordBatch) error { got = append(got, rec); return nil })
		ref := array.NewRecordBuilder(memory.NewGoAllocator(), Usage)
		var r Row
		rows := rng.IntN(40)
		for range rows {
			if rng.IntN(3) == 0 { // a new title; else its next month
				for _, f := range r.texts() {
					*f = words[rng.IntN(len(words))]
				}
				r.YOP, r.HasYOP = int32(1990+rng.IntN(40)), rng.IntN(4) > 0
			}
			r.Month = time.Date(2020+rng.IntN(3), time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
			r.Count = rng.Int64N(1000)
			if err := bt.Add(&r); err != nil {
				t.Fatal(err)
			}
			for c, f := range r.texts() {
				ref.Field(c).(*array.StringBuilder).Append(*f)
			}
			n := len(StringColumns)
			if r.HasYOP {
				ref.Field(n).(*array.Int32Builder).Append(r.YOP)
			} else {
				ref.Field(n).AppendNull()
			}
			ref.Field(n + 1).(*array.Date32Builder).Append(arrow.Date32FromTime(r.Month))
			ref.Field(n + 2).(*array.Int64Builder).Append(r.Count)
		}
		if err := bt.Flush(); err != nil {
			t.Fatal(err)
		}
		bt.Release()
		want := ref.NewRecordBatch()
		ref.Release()
		var off int64
		for _, rec := range got {
			if rec.NumRows() > int64(size) {
				t.Fatalf("round %d: a batch of %d rows, more than %d", round, rec.NumRows(), size)
			}
			if w := want.NewSlice(off, off+rec.NumRows()); !array.RecordEqual(rec, w) {
				t.Fatalf("round %d: rows %d.. differ:\n%v\nwant\n%v", round, off, rec, w)
			} else {
				w.Release()
			}
			off += rec.NumRows()
			rec.Release()
		}
		if off != int64(rows) {
			t.Fatalf("round %d: %d rows in batches, %d added", round, off, rows)
		}
		want.Release()
	}
}
