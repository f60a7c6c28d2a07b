package transform

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// raws is how many raw objects were read from c.
func (c *countingSource) raws() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, gets := range c.gets {
		if !bibstat.IsSidecar(k) {
			n += gets
		}
	}
	return n
}

// TestParseChunksParsesOneChunkAhead: parseChunks hands out the chunks in
// order, each with its parse under way; the next chunk is parsed while the
// last one is being stored (not taken yet), but no further, so a load
// holds at most one chunk parsed ahead. stop ends the rest.
func TestParseChunksParsesOneChunkAhead(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	months := []string{"2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"}
	for i, m := range months {
		archiveRaw(t, st, "2030100", m, t1.Add(time.Duration(i)*time.Minute), bibstat.StateOK, prBody(m, prItems(m, 10+i)))
	}
	sides := newestHarvests(t, st)
	chunks := [][]bibstat.Sidecar{sides[0:2], sides[2:4], sides[4:6]}
	src := &countingSource{Source: st, gets: map[string]int{}}

	runs, stop := parseChunks(ctx, src, t.TempDir(), chunks)
	defer stop()
	first := <-runs
	if first.err != nil || !slices.Equal(keysOf(first.chunk), keysOf(chunks[0])) {
		t.Fatalf("first run: chunk %v, err %v; want %v", keysOf(first.chunk), first.err, keysOf(chunks[0]))
	}
	if rows := drain(t, first); rows != 2 {
		t.Errorf("first chunk: %d rows parsed, want 2", rows)
	}
	// The second chunk is parsed though nobody took it yet; the third waits.
	if !eventually(func() bool { return src.raws() == 4 }) {
		t.Fatalf("%d raw objects read while the first chunk was stored, want 4 (the second chunk parsed ahead)", src.raws())
	}
	time.Sleep(20 * time.Millisecond)
	if n := src.raws(); n != 4 {
		t.Fatalf("%d raw objects read before the second chunk was taken, want 4: parsed more than one chunk ahead", n)
	}
	second := <-runs
	if !slices.Equal(keysOf(second.chunk), keysOf(chunks[1])) {
		t.Fatalf("second run: chunk %v, want %v", keysOf(second.chunk), keysOf(chunks[1]))
	}
	if rows := drain(t, second); rows != 2 {
		t.Errorf("second chunk: %d rows parsed, want 2", rows)
	}
	stop() // the third, parsed or not, is let go
	if _, ok := <-runs; ok {
		t.Error("a run handed out after stop")
	}
}

// newestHarvests is each unit's newest loadable harvest in st, in key order
// (as loadAll takes them).
func newestHarvests(t *testing.T, st store.Store) []bibstat.Sidecar {
	t.Helper()
	cands, err := loadableHarvests(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var sides []bibstat.Sidecar
	for _, cs := range cands {
		sides = append(sides, cs[0])
	}
	slices.SortFunc(sides, func(a, b bibstat.Sidecar) int { return strings.Compare(a.Key, b.Key) })
	return sides
}

// drain reads a run's stream to its end, as DuckDB does, and counts its rows.
func drain(t *testing.T, run chunkRun) int64 {
	t.Helper()
	defer run.files.remove()
	defer run.parse.stream.Release()
	var rows int64
	for run.parse.stream.Next() {
		rows += run.parse.stream.RecordBatch().NumRows()
	}
	if err := run.parse.stream.Err(); err != nil {
		t.Fatal(err)
	}
	if bad, err := run.parse.wait(); err != nil || len(bad) > 0 {
		t.Fatalf("parse: %v, not read: %v", err, bad)
	}
	return rows
}

func keysOf(sides []bibstat.Sidecar) []string {
	out := make([]string, len(sides))
	for i, s := range sides {
		out[i] = s.Key
	}
	return out
}

// eventually polls cond for up to ten seconds (a liveness bound, not a
// timing: a slow machine passes).
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestParseChunksKeepEachChunksCopies: the next chunk's copies of stored
// parsed rows are made while the last chunk loads, so a chunk that ends
// (its copies removed) must leave the next one's in place, each chunk
// reading its own units' rows.
func TestParseChunksKeepEachChunksCopies(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	for i, m := range []string{"2024-01", "2024-02"} {
		archive(t, st, harvest{platform: "avis", cred: "2030100", lib: "2030100", report: "pr", month: m, at: t0.Add(time.Duration(i) * time.Minute)}.with(
			use{"5.1", "PR", "Total_Item_Requests", "2030100", int64(10 + i)}))
	}
	sides := newestHarvests(t, st)
	runs, stop := parseChunks(ctx, st, t.TempDir(), [][]bibstat.Sidecar{sides[0:1], sides[1:2]})
	defer stop()
	first := <-runs
	second := <-runs // handed out once the first chunk's parse ended, its copies made
	defer second.discard()
	for _, run := range []chunkRun{first, second} {
		if run.err != nil || len(run.files.copied()) != 1 {
			t.Fatalf("chunk %v: copies %v, err %v; want one copy", keysOf(run.chunk), run.files.copied(), run.err)
		}
	}
	if first.files.copied()[0] == second.files.copied()[0] {
		t.Fatalf("both chunks copied to %s", first.files.copied()[0])
	}
	first.discard() // the first chunk has loaded: its copies go
	if _, err := os.Stat(second.files.copied()[0]); err != nil {
		t.Fatalf("the second chunk's copy, after the first chunk ended: %v", err)
	}
}

// TestLoadOfManyChunksFromCopies: a rebuild reads most units from their
// stored parsed rows, in several chunks (each copied while the one before
// it loads); every unit is loaded once and every count kept.
func TestLoadOfManyChunksFromCopies(t *testing.T) {
	ctx := context.Background()
	st := world(t)
	const units = loadChunk + 1 // two chunks
	for i := range units {
		h := harvest{platform: fmt.Sprintf("p%04d", i), cred: "2030100", lib: "2030100", report: "pr", month: "2024-01", at: t0}.with(
			use{"5.1", "PR", "Total_Item_Requests", "", int64(i + 1)})
		archive(t, st, h)
	}
	claimManyRows(t, st, loadChunkRows/loadChunk) // loadChunk units fill a chunk
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	sum, err := w.Update(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != units+8 || len(sum.Failed) != 0 {
		t.Fatalf("load %+v, want %d units loaded", sum, units+8)
	}
	want := int64(units) * (units + 1) / 2
	if n := query[int64](t, w.DB, `SELECT sum(count)::BIGINT FROM facts WHERE platform LIKE 'p____'`); n != want {
		t.Errorf("facts sum %d, want %d", n, want)
	}
}

// claimManyRows rewrites every sidecar in st to say it holds rows rows:
// the load sizes its chunks by what the sidecars say.
func claimManyRows(t *testing.T, st store.Store, rows int64) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, bibstat.RawPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !bibstat.IsSidecar(k) {
			continue
		}
		side, err := readSidecar(ctx, st, k)
		if err != nil {
			t.Fatal(err)
		}
		side.Rows = rows
		js, err := bibstat.EncodeSidecar(side)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, k, bytes.NewReader(js)); err != nil {
			t.Fatal(err)
		}
	}
}
