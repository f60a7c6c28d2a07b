package transform

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// smallUnits archives n SUSHI units of five rows each, as a national night
// has them: many platforms × libraries, one month.
func smallUnits(tb testing.TB, n int) store.Store {
	tb.Helper()
	st := store.NewMemory()
	var items strings.Builder
	items.WriteString(`[{"Platform":"p","Attribute_Performance":[`)
	for i, dt := range []string{"Book", "Journal", "Database", "Newspaper_or_Newsletter", "Other"} {
		if i > 0 {
			items.WriteString(",")
		}
		fmt.Fprintf(&items, `{"Data_Type":%q,"Access_Method":"Regular","Performance":{"Total_Item_Requests":{"2024-01":%d}}}`, dt, i+1)
	}
	items.WriteString(`]}]`)
	body := []byte(prBody("2024-01", items.String()))
	m, _ := bibstat.ParseMonth("2024-01")
	for i := range n {
		lib := bibstat.LibraryID(fmt.Sprintf("%07d", 2000000+i/25))
		u := bibstat.Unit{Platform: fmt.Sprintf("p%02d", i%25), Credential: string(lib), Report: "pr", Month: m}
		key := u.RawKey(t0, "json")
		side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: u.Platform, Credential: u.Credential, Library: lib,
			Report: "pr", Month: "2024-01", HarvestedAt: t0, State: bibstat.StateOK, Rows: 5}
		js, err := bibstat.EncodeSidecar(side)
		if err != nil {
			tb.Fatal(err)
		}
		for k, v := range map[string][]byte{key: body, bibstat.SidecarKey(key): js} {
			if err := st.Put(context.Background(), k, bytes.NewReader(v)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return st
}

// BenchmarkLoadSmallUnits loads 20,000 five-row units into an empty
// warehouse; load_s is the load without the marts' refresh.
func BenchmarkLoadSmallUnits(b *testing.B) {
	st := smallUnits(b, 20000)
	for b.Loop() {
		log := quiet
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		w, err := Open(context.Background(), filepath.Join(b.TempDir(), "w.duckdb"), Options{Threads: 2}, log)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		start := time.Now()
		sum, err := w.Load(context.Background(), st)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Rows != 5*20000 {
			b.Fatalf("%d rows loaded, want %d", sum.Rows, 5*20000)
		}
		b.ReportMetric((time.Since(start) - sum.Marts).Seconds(), "load_s")
		b.ReportMetric(sum.Marts.Seconds(), "marts_s")
	}
}

// TestChunkEnd: a chunk is at least loadChunk units, grows while its rows
// are few, and never passes maxChunkUnits; every unit is in one chunk.
func TestChunkEnd(t *testing.T) {
	of := func(n int, rows int64) []bibstat.Sidecar {
		out := make([]bibstat.Sidecar, n)
		for i := range out {
			out[i].Rows = rows
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		todo  []bibstat.Sidecar
		sizes []int
	}{
		{"few", of(10, 5), []int{10}},
		{"big units: loadChunk each", of(5000, 10000), []int{2048, 2048, 904}},
		{"small units: by rows", of(60000, 5), []int{26215, 26215, 7570}},
		{"rows unknown: maxChunkUnits", of(40000, 0), []int{32768, 7232}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sizes []int
			for start, end := 0, 0; start < len(tc.todo); start = end {
				end = chunkEnd(tc.todo, start)
				sizes = append(sizes, end-start)
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.sizes) {
				t.Errorf("chunks %v, want %v", sizes, tc.sizes)
			}
		})
	}
}

// TestLoadWithAReaderOpen: a transaction open on another connection (the
// portal's, in 'bibstat serve') makes DuckDB refuse the load's CHECKPOINT;
// the load goes on, and its facts are there.
func TestLoadWithAReaderOpen(t *testing.T) {
	ctx := context.Background()
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	sum, err := w.Load(ctx, smallUnits(t, 40))
	if err != nil {
		t.Fatal(err)
	}
	if got := query[int64](t, w.DB, `SELECT count(*) FROM facts`); sum.Rows != 200 || got != 200 {
		t.Errorf("%d rows loaded, %d in facts, want 200", sum.Rows, got)
	}
}
