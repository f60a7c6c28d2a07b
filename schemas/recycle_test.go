package schemas

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestPropertyRecyclerBatchesAsFresh: a Batcher on a Recycler emits the
// batches one on the Go allocator does, while the batches are held and
// released in random order: a batch still held is never written into (it
// equals the fresh twin when finally released), and released memory does
// come back.
func TestPropertyRecyclerBatchesAsFresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	words := []string{"", "", "a", "Aftenposten", "Journal of Synthetic Studies 12", "æøå", strings.Repeat("x", 40)}
	rec := NewRecycler()
	reused := 0
	for round := range 100 {
		size := 1 + rng.IntN(9)
		var held, fresh []arrow.RecordBatch
		check := func(i int) {
			if !array.RecordEqual(held[i], fresh[i]) {
				t.Fatalf("round %d: a held batch changed:\n%v\nwant\n%v", round, held[i], fresh[i])
			}
			held[i].Release()
			fresh[i].Release()
			held, fresh = append(held[:i], held[i+1:]...), append(fresh[:i], fresh[i+1:]...)
		}
		bt := NewBatcher(rec, size, func(r arrow.RecordBatch) error { held = append(held, r); return nil })
		ref := NewBatcher(nil, size, func(r arrow.RecordBatch) error { fresh = append(fresh, r); return nil })
		var r Row
		for range rng.IntN(60) {
			nextRandomRow(rng, &r, words)
			if err := bt.Add(&r); err != nil {
				t.Fatal(err)
			}
			if err := ref.Add(&r); err != nil {
				t.Fatal(err)
			}
			if len(held) != len(fresh) {
				t.Fatalf("round %d: %d batches against %d", round, len(held), len(fresh))
			}
			if len(held) > 0 && rng.IntN(2) == 0 { // DuckDB done with one of them
				check(rng.IntN(len(held)))
			}
		}
		if err := bt.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := ref.Flush(); err != nil {
			t.Fatal(err)
		}
		for len(held) > 0 {
			check(rng.IntN(len(held)))
		}
		bt.Release()
		ref.Release()
		rec.mu.Lock()
		if len(rec.free) > 0 {
			reused++
		}
		rec.mu.Unlock()
	}
	if reused < 50 {
		t.Fatalf("memory came back to the Recycler in only %d of 100 rounds", reused)
	}
}

func TestRecyclerAllocateIsCleared(t *testing.T) {
	r := NewRecycler()
	b := r.Allocate(100)
	for i := range b {
		b[i] = 0xff
	}
	r.Free(b)
	for _, got := range [][]byte{r.Allocate(100), r.Reallocate(120, r.Allocate(60))} {
		for i, c := range got {
			if c != 0 {
				t.Fatalf("byte %d of a recycled allocation is %#x, not 0", i, c)
			}
		}
	}
	var _ memory.Allocator = r
}
