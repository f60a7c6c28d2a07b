package transform

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/schemas"
)

// narrowWorld is rows of the facts columns (unit_key, library_id, then
// Usage's) of units u0…u4: items sharing a title, rows equal but in one
// column (each head and item column in turn, NULL against ” too), yop
// absent or not.
func narrowWorld(seed uint64, count int) [][]any {
	r := rand.New(rand.NewPCG(seed, 1))
	names := append([]string{"unit_key", "library_id"}, usageNames()...)
	pick := func(name string) any {
		switch name {
		case schemas.ColYOP:
			return []any{nil, int32(2020), int32(2021)}[r.IntN(3)]
		case schemas.ColMonth:
			return []string{"2024-01-01", "2024-02-01"}[r.IntN(2)]
		case schemas.ColCount:
			return int64(r.IntN(100))
		case "unit_key":
			return fmt.Sprintf("u%d", r.IntN(5))
		case "library_id": // NOT NULL
			return fmt.Sprintf("l%d", r.IntN(2))
		}
		return []any{nil, "", "a", "b"}[r.IntN(4)]
	}
	var rows [][]any
	for range count {
		row := make([]any, len(names))
		for i, n := range names {
			row[i] = pick(n)
		}
		rows = append(rows, row)
	}
	// Each head and item column changed alone in a copy of the first row.
	for i, n := range names {
		if slices.Contains(schemas.FactsRowColumns, n) || n == "unit_key" {
			continue
		}
		row := slices.Clone(rows[0])
		switch v := row[i].(type) {
		case nil:
			row[i] = ""
			if n == schemas.ColYOP {
				row[i] = int32(1999)
			}
		case string:
			row[i] = map[bool]any{true: nil, false: v + "x"}[v == ""]
		case int32:
			row[i] = nil
		}
		rows = append(rows, row)
	}
	return rows
}

func usageNames() []string {
	var out []string
	for _, f := range schemas.Usage.Fields() {
		out = append(out, f.Name)
	}
	return out
}

// TestFactsViewGivesTheRowsLoaded: the facts view over the narrow tables
// gives exactly the rows stored into them, as a table of the old wide
// layout holds them, through a first load and a restatement of two units
// (read back from Parquet, as a rebuild reads stored copies).
func TestFactsViewGivesTheRowsLoaded(t *testing.T) { factsViewGivesTheRowsLoaded(t) }

// TestFactsViewGivesTheRowsLoadedWhenKeysCollide: the same when every
// head and every item has one key, so each load is stored by the join on
// every column.
func TestFactsViewGivesTheRowsLoadedWhenKeysCollide(t *testing.T) {
	collideKeys(t)
	factsViewGivesTheRowsLoaded(t)
}

// collideKeys gives every head and item the key 7 for the test.
func collideKeys(t *testing.T) {
	was := keyHash
	keyHash = func(string, []string) string { return "7::UBIGINT" }
	t.Cleanup(func() { keyHash = was })
}

// TestItemsSharingAKeyStayTwo: two items whose keys collide, loaded in one
// chunk or in two, stay two items, each row with its own: a join by the
// key alone would give both rows the first item (or each row both).
func TestItemsSharingAKeyStayTwo(t *testing.T) {
	collideKeys(t)
	ctx := context.Background()
	for _, chunks := range [][]string{{"u0", "u1"}, {"u0 u1"}} {
		t.Run(fmt.Sprint(len(chunks), " chunks"), func(t *testing.T) {
			w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
			w.DB.SetMaxOpenConns(1) // the temp tables are the connection's
			if _, err := w.DB.ExecContext(ctx, `CREATE TEMP TABLE src (`+schemas.FactsColumns()+`)`); err != nil {
				t.Fatal(err)
			}
			for _, units := range chunks {
				tx, err := w.DB.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				// u0's item is titled A, u1's B; all else is alike.
				for _, q := range []string{
					`DELETE FROM src`,
					`INSERT INTO src (unit_key, library_id, title, metric_type, month, count)
					 SELECT u, 'l0', CASE u WHEN 'u0' THEN 'A' ELSE 'B' END, 'Total_Item_Requests', DATE '2024-01-01', 3
					 FROM unnest(string_split('` + units + `', ' ')) t(u)`,
					`CREATE OR REPLACE TEMP TABLE load_map AS SELECT DISTINCT unit_key FROM src`,
				} {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				if err := putUnits(ctx, tx); err != nil {
					t.Fatal(err)
				}
				if _, err := insertNarrow(ctx, tx, "src"); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			got := query[string](t, w.DB, `SELECT string_agg(unit_key || ':' || title || ':' || count, ' ' ORDER BY unit_key) FROM facts`)
			if got != "u0:A:3 u1:B:3" {
				t.Errorf("facts %q, want u0:A:3 u1:B:3", got)
			}
			if n := query[int64](t, w.DB, `SELECT count(*) FROM narrow.items`); n != 2 {
				t.Errorf("%d items, want 2", n)
			}
		})
	}
}

func factsViewGivesTheRowsLoaded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := openTest(t, filepath.Join(dir, "w.duckdb"))
	db := w.DB
	db.SetMaxOpenConns(1) // the temp tables are the connection's
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TEMP TABLE wide (` + schemas.FactsColumns() + `)`)
	exec(`CREATE TEMP TABLE src (` + schemas.FactsColumns() + `)`)
	marks := strings.TrimSuffix(strings.Repeat("?, ", 2+len(schemas.Usage.Fields())), ", ")
	put := func(rows [][]any) {
		t.Helper()
		exec(`DELETE FROM src`)
		for _, row := range rows {
			exec(`INSERT INTO src VALUES (`+marks+`)`, row...)
		}
	}
	load := func(rel string) {
		t.Helper()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, q := range []string{`CREATE OR REPLACE TEMP TABLE load_map AS SELECT DISTINCT unit_key FROM src`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := putUnits(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if err := deleteFacts(ctx, tx); err != nil {
			t.Fatal(err)
		}
		n, err := insertNarrow(ctx, tx, rel)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM src`).Scan(&want); err != nil || n != want {
			t.Errorf("stored %d rows of %d (%v)", n, want, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		exec(`DELETE FROM wide WHERE unit_key IN (SELECT unit_key FROM src)`)
		exec(`INSERT INTO wide SELECT * FROM src`)
	}
	check := func(step string) {
		t.Helper()
		for _, q := range []string{
			`SELECT count(*) FROM (SELECT * FROM facts EXCEPT ALL SELECT * FROM wide)`,
			`SELECT count(*) FROM (SELECT * FROM wide EXCEPT ALL SELECT * FROM facts)`,
		} {
			if n := query[int64](t, db, q); n != 0 {
				t.Errorf("%s: %s: %d rows", step, q, n)
			}
		}
		if n := query[int64](t, db, `SELECT count(*) FROM wide`); n == 0 {
			t.Fatalf("%s: no rows: the comparison proves nothing", step)
		}
	}

	put(narrowWorld(1, 300))
	load("src")
	check("first load")

	restated := narrowWorld(2, 120)
	var two [][]any
	for _, row := range restated {
		if row[0] == "u1" || row[0] == "u3" {
			two = append(two, row)
		}
	}
	put(two)
	file := filepath.Join(dir, "restated.parquet")
	exec(`COPY src TO '` + file + `' (FORMAT parquet)`)
	load(`(SELECT * FROM read_parquet('` + file + `'))`)
	check("restatement")
	if n := query[int64](t, db, `SELECT count(*) FROM narrow.items`); n < 2 {
		t.Errorf("%d items: the world shares nothing", n)
	}
}
