package transform

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func TestIsMissingTable(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE present (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	query := func(q string) error {
		var n int
		return db.QueryRowContext(context.Background(), q).Scan(&n)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"missing table", query(`SELECT count(*) FROM absent`), true},
		{"wrapped", fmt.Errorf("read libraries: %w", query(`SELECT count(*) FROM absent`)), true},
		{"present table", query(`SELECT count(*) FROM present`), false},
		{"syntax error", query(`SELEC 1`), false},
		{"missing column", query(`SELECT y FROM present`), false},
		{"no rows", sql.ErrNoRows, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsMissingTable(tt.err); got != tt.want {
			t.Errorf("%s: IsMissingTable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestOpenCreatesViews: a warehouse whose marts were built before a view
// existed gets it when opened, without waiting for a refresh.
func TestOpenCreatesViews(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	w := openTest(t, path)
	if _, err := w.Update(ctx, world(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB.ExecContext(ctx, `DROP VIEW library_county`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = openTest(t, path)
	if n := query[int64](t, w.DB, `SELECT count(*) FROM library_county`); n == 0 {
		t.Error("library_county is empty after Open")
	}
}

// TestOpenCachesNoExternalFiles: the files a load reads are read once, so
// DuckDB must not keep them in memory (its external file cache held every
// chunk's copies of stored rows: a rebuild's memory grew with its size).
func TestOpenCachesNoExternalFiles(t *testing.T) {
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	if on := query[bool](t, w.DB, `SELECT current_setting('enable_external_file_cache')`); on {
		t.Error("enable_external_file_cache is on")
	}
}
