package schemas

import (
	"fmt"
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
