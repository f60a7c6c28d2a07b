package transform_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

var rbQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// rbAgreements is an agreement registry over the test world, so that the
// agreement tables have rows to compare.
const rbAgreements = `agreements:
  - id: avis-2024
    name: Avis 2024
    vendor: V
    platforms: [avis]
    data_type: content
    period: {from: 2024-01, to: 2024-12}
    price_nok: 120000
    vat_included: true
    vat_rate: 0
    allocation: {model: population}
    participants:
      - library: "2030100"
      - county: "33"
`

// TestRebuildEqualsIncremental: a warehouse rebuilt from the store alone
// equals the one loaded bit by bit, in every table and view of its
// catalogue (the agreement registry's too): a table added later is
// compared without anyone listing it.
func TestRebuildEqualsIncremental(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := transform.WorldStore(t)
	if _, err := agreements.Archive(ctx, st, []byte(rbAgreements), "agreements.yaml", "test", 1, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	inc := rbOpen(t, filepath.Join(dir, "inc.duckdb"))
	if _, err := inc.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	rbSync(t, inc.DB, st)
	transform.RestateWorld(t, st)
	if _, err := inc.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	want := rbChecksums(t, inc.DB)

	path := filepath.Join(dir, "rebuilt.duckdb")
	if err := os.WriteFile(path, []byte("an old, broken warehouse"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := transform.Rebuild(ctx, path, transform.Options{Threads: 2}, st, rbQuiet); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".rebuild"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rebuild left its temporary file: %v", err)
	}
	rebuilt := rbOpen(t, path)
	rbSync(t, rebuilt.DB, st)
	got := rbChecksums(t, rebuilt.DB)
	for tb, sum := range want {
		if got[tb] != sum {
			t.Errorf("%s: rebuilt %s, incremental %s", tb, got[tb], sum)
		}
	}
	for tb := range got {
		if _, ok := want[tb]; !ok {
			t.Errorf("%s: only in the rebuilt warehouse", tb)
		}
	}
	for _, tb := range append([]string{"facts", "source_choice", "agreements", "agreement_imports"}, transform.Marts...) {
		if s, ok := want[tb]; !ok || strings.HasPrefix(s, "0:") {
			t.Errorf("%s is empty or missing (%q): the comparison would prove nothing", tb, s)
		}
	}
}

func rbOpen(t *testing.T, path string) *transform.Warehouse {
	t.Helper()
	w, err := transform.Open(context.Background(), path, transform.Options{Threads: 2}, rbQuiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// rbSync replays the store's agreement imports, as transform and serve do.
func rbSync(t *testing.T, db *sql.DB, st store.Store) {
	t.Helper()
	if err := (&agreements.Warehouse{DB: db}).RestoreLogged(context.Background(), rbQuiet, st); err != nil {
		t.Fatal(err)
	}
}

// rbChecksums is an ordered digest of every table and view in the
// warehouse's catalogue but meta, read from the catalogue itself.
func rbChecksums(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name <> 'meta' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		var s string
		q := `SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)), '') FROM "` + tb + `" t`
		if err := db.QueryRow(q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[tb] = s
	}
	return out
}
