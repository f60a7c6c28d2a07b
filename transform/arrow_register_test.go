package transform

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// randomTexts is n texts around 12 bytes (DuckDB's inline strings), some
// empty, some repeated, some not ASCII; null where nulls says.
func randomTexts(rng *rand.Rand, n int, nulls bool) ([]string, []bool) {
	pieces := []string{"a", "Journal", "é", "😀", "10.9999/", " ", "\x00", "ISSN 1234-5678"}
	texts, valid := make([]string, n), make([]bool, n)
	for i := range texts {
		valid[i] = !nulls || rng.IntN(5) > 0
		switch rng.IntN(6) {
		case 0: // empty
		case 1:
			if i > 0 {
				texts[i] = texts[i-1]
			}
		case 2:
			texts[i] = strings.Repeat("x", 11+rng.IntN(3)) // 11, 12, 13 bytes: either side of inline
		default:
			var b strings.Builder
			for range rng.IntN(8) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			texts[i] = b.String()
		}
	}
	return texts, valid
}

func stringArray(texts []string, valid []bool) *array.String {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(texts, valid)
	return b.NewStringArray()
}

// TestRegisterRecordsReadsEveryText: what DuckDB reads of a registered
// stream is the batches' texts, row by row, sliced batches included (the
// load sends slices of a batch, a unit each).
func TestRegisterRecordsReadsEveryText(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 21))
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	want := map[int64]string{}
	var recs []arrow.RecordBatch
	for id := int64(0); len(recs) < 20; {
		texts, _ := randomTexts(rng, 1+rng.IntN(3000), false)
		ib := array.NewInt64Builder(memory.DefaultAllocator)
		for range texts {
			ib.Append(id)
			id++
		}
		ids := ib.NewArray()
		ib.Release()
		strs := stringArray(texts, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{ids, strs}, int64(len(texts)))
		ids.Release()
		strs.Release()
		// Every other batch goes as a slice of a larger one.
		if len(recs)%2 == 1 {
			lo := rng.IntN(len(texts))
			sl := rec.NewSlice(int64(lo), int64(len(texts)))
			rec.Release()
			rec = sl
		}
		ids64 := rec.Column(0).(*array.Int64)
		for j := range int(rec.NumRows()) {
			want[ids64.Value(j)] = rec.Column(1).(*array.String).Value(j)
		}
		recs = append(recs, rec)
	}
	stream, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		rec.Release()
	}
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "v.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	drop, err := RegisterRecords(ctx, conn, t.TempDir(), "texts", stream)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "CREATE TABLE got AS SELECT i, s FROM texts")
	drop()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT i, s FROM got")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[int64]bool{}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		w, ok := want[id]
		if !ok || seen[id] || s != w {
			t.Fatalf("row %d: %q (known %t, seen before %t), want %q", id, s, ok, seen[id], w)
		}
		seen[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(want) {
		t.Fatalf("%d rows, want %d", len(seen), len(want))
	}
}
