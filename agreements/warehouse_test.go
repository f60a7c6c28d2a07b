package agreements

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/bibliotek24/bibstat"
)

// testWarehouse creates the few warehouse tables valuation reads, in a real
// DuckDB file: libraries A (Oslo, 600 inhabitants) and B (Bergen, 300), and
// A's 250 Unique_Item_Requests a month on "p" in 2025 (with other metrics
// and platforms that must not count).
func testWarehouse(t *testing.T) *Warehouse {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE libraries (library_id VARCHAR, isil VARCHAR, name VARCHAR, municipality VARCHAR, population BIGINT)`,
		`CREATE TABLE municipalities (municipality VARCHAR, name VARCHAR, county VARCHAR, county_name VARCHAR, population BIGINT)`,
		`CREATE TABLE mart_library_month (library_id VARCHAR, platform VARCHAR, release VARCHAR, metric_type VARCHAR, month DATE, count BIGINT, pooled DOUBLE DEFAULT 0)`,
		// The marts' population tables: what the warehouse says, never recomputed here.
		`CREATE TABLE library_population (library_id VARCHAR, year BIGINT, population BIGINT)`,
		`CREATE TABLE population_by_year (year BIGINT, municipality VARCHAR, population BIGINT, population_year BIGINT)`,
		`INSERT INTO library_population VALUES ('2000001', 2025, 600), ('2000002', 2025, 300)`,
		`INSERT INTO population_by_year VALUES (2025, '0301', 600, 2025), (2025, '4601', 300, 2025), (2025, '4602', 700, 2025)`,
		`CREATE TABLE loaded_units (platform VARCHAR)`,
		`INSERT INTO libraries VALUES ('2000001', 'NO-2000001', 'A', '0301', 600), ('2000002', 'NO-2000002', 'B', '4601', NULL)`,
		`INSERT INTO municipalities VALUES ('0301', 'Oslo', '03', 'Oslo', 600), ('4601', 'Bergen', '46', 'Vestland', 300), ('4602', 'Kinn', '46', 'Vestland', 700)`,
		`INSERT INTO mart_library_month SELECT '2000001', 'p', '5.1', 'Unique_Item_Requests', m, 250, 0 FROM generate_series(DATE '2025-01-01', DATE '2025-12-01', INTERVAL 1 MONTH) t(m)`,
		`INSERT INTO mart_library_month SELECT '2000001', 'p', '5.1', 'Total_Item_Requests', m, 999, 0 FROM generate_series(DATE '2025-01-01', DATE '2025-12-01', INTERVAL 1 MONTH) t(m)`,
		`INSERT INTO mart_library_month VALUES ('2000001', 'q', '5.1', 'Unique_Item_Requests', DATE '2025-01-01', 777, 0)`,
		`INSERT INTO loaded_units VALUES ('p'), ('q')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return &Warehouse{DB: db}
}

const whFile = `agreements:
  - id: p-2025
    name: P 2025
    vendor: V
    platforms: [p]
    data_type: content
    period: {from: 2025-01, to: 2025-12}
    price_nok: 90000
    vat_included: true
    vat_rate: 0
    allocation: {model: population}
    participants:
      - library: "2000001"
      - county: "46"
`

func TestWarehouseValue(t *testing.T) {
	ctx := context.Background()
	w := testWarehouse(t)
	k, err := w.Known(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Platforms["p"] || !k.Libraries["2000001"] || !k.Counties["46"] || !k.Counties["30"] || k.Platforms["x"] {
		t.Fatalf("known = %+v", k)
	}
	as, err := Parse("w.yaml", strings.NewReader(whFile), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Import(ctx, as, "w.yaml", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	a, err := w.Get(ctx, "p-2025")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Value(ctx, w, a, mon("2025-01"), mon("2025-12"))
	if err != nil {
		t.Fatal(err)
	}
	// A: 600 of 600 + Vestland's 1 000 → 90 000 × 600 / 1 600 = 33 750; Vestland 56 250.
	// Uses: A's 3 000 Unique_Item_Requests on p; B (in Vestland) has none harvested.
	if v.Cost != 90000*nok || v.Uses != 3000 || v.CostPerUse.String() != "30,00 NOK" || v.Population != 1600 || v.Libraries != 2 {
		t.Errorf("cost %s uses %d cost/use %s population %d libraries %d", v.Cost, v.Uses, v.CostPerUse, v.Population, v.Libraries)
	}
	if p := v.Participants; p[0].Allocated != 33750*nok || p[1].Allocated != 56250*nok || p[1].CostPerUse.String() != "no data" || p[0].CostPerUse.String() != "11,25 NOK" {
		t.Errorf("participants %+v", p)
	}
	if v.NationalPop != 1600 {
		t.Errorf("national population %d", v.NationalPop)
	}
}

func TestImportHistory(t *testing.T) {
	ctx := context.Background()
	w := testWarehouse(t)
	k, _ := w.Known(ctx)
	imp := func(file string, day int) ImportResult {
		t.Helper()
		as, err := Parse("w.yaml", strings.NewReader(file), k)
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.Import(ctx, as, "w.yaml", time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := imp(whFile, 1); strings.Join(res.Added, ",") != "p-2025" {
		t.Errorf("first import %+v", res)
	}
	if res := imp(whFile, 2); strings.Join(res.Unchanged, ",") != "p-2025" {
		t.Errorf("same file again %+v", res)
	}
	changed := strings.NewReplacer("price_nok: 90000", "price_nok: 96000", `      - county: "46"`+"\n", `      - library: "2000002"`+"\n        joined: 2025-07\n").Replace(whFile)
	if res := imp(changed, 3); strings.Join(res.Changed, ",") != "p-2025" {
		t.Errorf("changed file %+v", res)
	}
	other := strings.ReplaceAll(whFile, "p-2025", "p-2026")
	if res := imp(other, 4); strings.Join(res.Removed, ",") != "p-2025" || strings.Join(res.Added, ",") != "p-2026" {
		t.Errorf("other file %+v", res)
	}
	h, err := w.History(ctx, "p-2025")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h {
		got = append(got, r.At.Format("01-02")+" "+r.Change+": "+r.Summary)
	}
	want := []string{
		"01-01 created: created",
		"01-03 changed: price_nok 90 000,00 → 96 000,00; +library 2000002 2025-07–2025-12; -county 46 2025-01–2025-12",
		"01-04 removed: removed: not in w.yaml",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	as, err := w.List(ctx)
	if err != nil || len(as) != 1 || as[0].ID != "p-2026" || as[0].Price.Cmp(as[0].PriceInclVAT()) != 0 {
		t.Errorf("list = %+v, %v", as, err)
	}
	var n int
	if err := w.DB.QueryRow(`SELECT count(*) FROM agreement_participants WHERE agreement_id = 'p-2025'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("participants of the removed agreement: %d, %v", n, err)
	}
}

// TestLibrariesCounty: a library's county is the warehouse's library_county
// (for a library under an old code, the heavier successor's), and a
// warehouse without the view falls back to its municipality's county.
func TestLibrariesCounty(t *testing.T) {
	ctx := context.Background()
	w := testWarehouse(t)
	county := func() map[bibstat.LibraryID]string {
		libs, err := w.Libraries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[bibstat.LibraryID]string{}
		for _, l := range libs {
			out[l.ID] = l.County
		}
		return out
	}
	if got := county(); got["2000001"] != "03" || got["2000002"] != "46" {
		t.Errorf("without library_county: %v", got)
	}
	for _, q := range []string{
		`INSERT INTO libraries VALUES ('2000003', 'NO-2000003', 'C', '1507', NULL)`,
		`CREATE TABLE municipality_successors (municipality_2023 VARCHAR, municipality_2024 VARCHAR)`,
		`CREATE TABLE library_county AS SELECT * FROM (VALUES ('2000001', '03'), ('2000002', '46'), ('2000003', '15')) t(library_id, county)`,
	} {
		if _, err := w.DB.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := county(); got["2000001"] != "03" || got["2000002"] != "46" || got["2000003"] != "15" {
		t.Errorf("with library_county: %v", got)
	}
}
