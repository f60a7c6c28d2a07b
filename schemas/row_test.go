package schemas

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestBatcherSplitsAndKeepsValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	var sizes []int64
	var total int64
	var titlesSeen []string
	bt := NewBatcher(mem, 3, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		if !rec.Schema().Equal(Usage) {
			t.Fatalf("schema = %v", rec.Schema())
		}
		sizes = append(sizes, rec.NumRows())
		counts := rec.Column(rec.Schema().FieldIndices(ColCount)[0]).(*array.Int64)
		for i := 0; i < counts.Len(); i++ {
			total += counts.Value(i)
		}
		titles := rec.Column(rec.Schema().FieldIndices(ColTitle)[0]).(*array.String)
		for i := 0; i < titles.Len(); i++ {
			titlesSeen = append(titlesSeen, titles.Value(i))
		}
		if got := rec.Column(0).(*array.String).Value(int(rec.NumRows()) - 1); got != "5.1" {
			t.Errorf("release of the last row = %q", got)
		}
		yop := rec.Column(rec.Schema().FieldIndices(ColYOP)[0])
		if !yop.IsNull(0) {
			t.Errorf("yop should be null when HasYOP is false")
		}
		return nil
	})
	defer bt.Release()
	row := Row{Release: "5.1", Month: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	var titles []string
	for i := 1; i <= 7; i++ {
		row.Count = int64(i)
		row.Title = strings.Repeat("Aftenposten ", i%3) + fmt.Sprint(i) // values of varying length
		titles = append(titles, row.Title)
		if err := bt.Add(&row); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{3, 3, 1}; len(sizes) != 3 || sizes[0] != want[0] || sizes[2] != want[2] {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
	if total != 28 {
		t.Errorf("total = %d, want 28", total)
	}
	if !slices.Equal(titlesSeen, titles) {
		t.Errorf("titles came back as %q, want %q", titlesSeen, titles)
	}
}

func TestBatcherRejectsRowWithoutMonth(t *testing.T) {
	bt := NewBatcher(nil, 0, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	defer bt.Release()
	if err := bt.Add(&Row{}); err == nil {
		t.Fatal("want error for a row without month")
	}
}

func TestTextsMatchStringColumns(t *testing.T) {
	var r Row
	if got, want := len(r.texts()), len(StringColumns); got != want {
		t.Fatalf("Row has %d text fields, StringColumns %d", got, want)
	}
}

// The Batcher reads a Row's texts as one array (textArray): they must be
// the texts, in StringColumns order, each where texts says it is.
func TestTextArrayIsTheTexts(t *testing.T) {
	var r Row
	a := textArray(&r)
	for i, f := range r.texts() {
		if f != &a[i] {
			t.Fatalf("text %d (%s) is not element %d of textArray", i, StringColumns[i], i)
		}
	}
}

// A reused Row and rows that alternate both land as they were when added.
func TestBatcherReusedAndAlternatingRows(t *testing.T) {
	var titles, dbs []string
	bt := NewBatcher(nil, 100, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		ti := rec.Column(rec.Schema().FieldIndices(ColTitle)[0]).(*array.String)
		db := rec.Column(rec.Schema().FieldIndices(ColDatabase)[0]).(*array.String)
		for i := 0; i < ti.Len(); i++ {
			titles, dbs = append(titles, ti.Value(i)), append(dbs, db.Value(i))
		}
		return nil
	})
	defer bt.Release()
	m := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := &Row{Month: m}, &Row{Month: m, Database: "D"}
	for i, r := range []*Row{a, a, b, a, b} {
		r.Title = fmt.Sprint("t", i)
		if err := bt.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"t0", "t1", "t2", "t3", "t4"}; !slices.Equal(titles, want) {
		t.Errorf("titles %q, want %q", titles, want)
	}
	if want := []string{"", "", "D", "", "D"}; !slices.Equal(dbs, want) {
		t.Errorf("databases %q, want %q", dbs, want)
	}
}

// Every field a Batcher takes comes back from SetFrom: a COUNTER upload
// re-reads the reader's batches this way and must lose no column.
func TestSetFromRoundTrip(t *testing.T) {
	var want [2]Row
	for k := range want {
		r := &want[k]
		for i, f := range r.texts() {
			*f = fmt.Sprintf("%s-%d", StringColumns[i], k)
		}
		r.Month = time.Date(2025, time.Month(3+k), 1, 0, 0, 0, 0, time.UTC)
		r.Count = int64(10 + k)
	}
	want[0].YOP, want[0].HasYOP = 1999, true
	var got []Row
	bt := NewBatcher(nil, 10, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		for i := 0; i < int(rec.NumRows()); i++ {
			var r Row
			r.SetFrom(rec, i)
			for _, f := range r.texts() {
				*f = strings.Clone(*f) // outlive rec
			}
			got = append(got, r)
		}
		return nil
	})
	defer bt.Release()
	for k := range want {
		if err := bt.Add(&want[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows back, want %d", len(got), len(want))
	}
	for k := range want {
		g, w := got[k], want[k]
		if !g.Month.Equal(w.Month) {
			t.Errorf("row %d: month %v, want %v", k, g.Month, w.Month)
		}
		g.Month = w.Month
		if g != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", k, g, w)
		}
	}
}

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
			nextRandomRow(rng, &r, words)
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

// nextRandomRow makes r a random row: a new title of words, or the same
// title's next month.
func nextRandomRow(rng *rand.Rand, r *Row, words []string) {
	if rng.IntN(3) == 0 {
		for _, f := range r.texts() {
			*f = words[rng.IntN(len(words))]
		}
		r.YOP, r.HasYOP = int32(1990+rng.IntN(40)), rng.IntN(4) > 0
	}
	r.Month = time.Date(2020+rng.IntN(3), time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
	r.Count = rng.Int64N(1000)
}
