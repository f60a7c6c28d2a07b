package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/transform"
)

// agreementsWarehouse makes a tiny warehouse with the demo's tables that
// the agreements commands read: the six demo libraries and 2025 usage.
func agreementsWarehouse(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	// A warehouse transform.Open accepts as its own (its meta row), holding
	// only the tables below: the commands open it as they open any.
	wh, err := transform.Open(context.Background(), path, transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	wh.Close()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dropAllButMeta(t, db)
	for _, q := range []string{
		`CREATE TABLE libraries (library_id VARCHAR, isil VARCHAR, name VARCHAR, municipality VARCHAR, population BIGINT)`,
		`CREATE TABLE municipalities (municipality VARCHAR, name VARCHAR, county VARCHAR, county_name VARCHAR, population BIGINT)`,
		`CREATE TABLE mart_library_month (library_id VARCHAR, platform VARCHAR, release VARCHAR, metric_type VARCHAR, month DATE, count BIGINT, pooled DOUBLE)`,
		// The marts' inhabitants, which the agreements read rather than compute.
		`CREATE TABLE library_population AS SELECT library_id, 2025 AS year, population FROM (VALUES ('2030100', 700000),
			('2120100', 300000), ('2160100', 200000), ('2190200', 80000), ('2080600', 60000), ('3060201', 1400)) t(library_id, population)`,
		`CREATE TABLE population_by_year AS SELECT 2025 AS year, municipality, population, 2025 AS population_year FROM (VALUES
			('0301', 700000), ('4601', 300000), ('5001', 200000), ('5501', 80000), ('4003', 60000), ('3301', 100000)) t(municipality, population)`,
		`CREATE TABLE loaded_units (platform VARCHAR)`,
		`INSERT INTO libraries VALUES ('2030100', '', 'Oslo', '0301', NULL), ('2120100', '', 'Bergen', '4601', NULL),
			('2160100', '', 'Trondheim', '5001', NULL), ('2190200', '', 'Tromsø', '5501', NULL),
			('2080600', '', 'Skien', '4003', NULL), ('3060201', '', 'Drammen VGS', '3301', 1400)`,
		`INSERT INTO municipalities VALUES ('0301', 'Oslo', '03', 'Oslo', 700000), ('4601', 'Bergen', '46', 'Vestland', 300000),
			('5001', 'Trondheim', '50', 'Trøndelag', 200000), ('5501', 'Tromsø', '55', 'Troms', 80000),
			('4003', 'Skien', '40', 'Telemark', 60000), ('3301', 'Drammen', '33', 'Buskerud', 100000)`,
		`INSERT INTO mart_library_month SELECT l, p, '5.1', m, DATE '2025-01-01' + INTERVAL (i) MONTH, 100, 0
			FROM unnest(['2030100', '2120100', '2160100', '2190200', '2080600', '3060201']) a(l),
			     unnest(['avisarkiv', 'leksikon', 'filmtjeneste']) b(p),
			     unnest(['Unique_Item_Requests', 'Total_Item_Requests']) c(m), range(12) d(i)`,
		// Oslo's share of a pool on avisarkiv: 12,5 uses a month.
		`UPDATE mart_library_month SET pooled = 12.5 WHERE library_id = '2030100' AND platform = 'avisarkiv' AND metric_type = 'Unique_Item_Requests'`,
		`INSERT INTO loaded_units VALUES ('avisarkiv'), ('leksikon'), ('filmtjeneste')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// dropAllButMeta drops every view and table of db except meta.
func dropAllButMeta(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT table_name, table_type FROM information_schema.tables
		WHERE table_schema = 'main' AND table_name <> 'meta' ORDER BY table_type DESC`)
	if err != nil {
		t.Fatal(err)
	}
	var drops []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		kind := "TABLE"
		if typ == "VIEW" {
			kind = "VIEW"
		}
		drops = append(drops, "DROP "+kind+" IF EXISTS "+name+" CASCADE")
	}
	rows.Close()
	for _, q := range drops {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func runAgreements(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"agreements"}, args...), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestAgreementsCommands(t *testing.T) {
	wh := agreementsWarehouse(t)
	example := "../../agreements/example.yaml"
	if out, errs, code := runAgreements(t, "validate", example, "--warehouse", wh); code != 0 || !strings.Contains(out, "3 agreement(s), valid") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}
	if out, errs, code := runAgreements(t, "import", example, "--warehouse", wh); code != 0 || !strings.Contains(out, "added     avisarkiv-2025, leksikon-2025, filmtjeneste-2025") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	if out, _, code := runAgreements(t, "import", example, "--warehouse", wh); code != 0 || !strings.Contains(out, "unchanged") {
		t.Errorf("import again: exit %d\n%s", code, out)
	}
	if out, _, code := runAgreements(t, "list", "--warehouse", wh); code != 0 || strings.Count(out, "2025-01–2025-12") != 3 {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if out, _, code := runAgreements(t, "show", "leksikon-2025", "--warehouse", wh); code != 0 ||
		!strings.Contains(out, "187 500,00 NOK incl. VAT, 150 000,00 NOK excl. VAT") || !strings.Contains(out, "created") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	// Avisarkivet: own uses 1 200 each for Oslo, Bergen, Trondheim and
	// Skien (through county 40), 600 for Tromsø from July; Oslo's pool
	// share 150 more: stated apart, then added.
	out, errs, code := runAgreements(t, "show", "avisarkiv-2025", "--explain", "--warehouse", wh)
	if code != 0 {
		t.Fatalf("show --explain: exit %d\n%s", code, errs)
	}
	wantAll(t, "show --explain", out,
		"participants:\n  library 2030100",
		"uses                  5 550 (own 5 400 + pooled share 150)",
		"own 5 400 + pooled share 150 = 5 550",
		"uses: Σ uses of its libraries (1) in its months (12): own 1 200 + pooled share 150 = 1 350")
	// Filmtjenesten: usage model, 4 participants; Skien leaves after June,
	// so uses are 1 200 + 1 200 + 1 200 + 600 = 4 200 Total_Item_Requests.
	out, errs, code = runAgreements(t, "value", "filmtjeneste-2025", "--year", "2025", "--explain", "--warehouse", wh)
	if code != 0 {
		t.Fatalf("value: exit %d\n%s", code, errs)
	}
	wantAll(t, "value", out,
		"uses                  4 200",
		"cost_per_use: cost / uses = 90 000,00 / 4 200 = 21,43 NOK",
		"Skien (2080600)                                   6         1     60 000      12 857,14        600      21,43 NOK")
}

// wantAll reports each of wants that the output of what lacks.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s output lacks %q:\n%s", what, want, out)
		}
	}
}

func TestAgreementsErrors(t *testing.T) {
	wh := agreementsWarehouse(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	b, err := os.ReadFile("../../agreements/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, bytes.Replace(b, []byte(`"2160100"`), []byte(`"2169999"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(t.TempDir(), "mixed.yaml")
	if err := os.WriteFile(mixed, bytes.Replace(b, []byte("data_type: multimedia"),
		[]byte("data_type: multimedia\n    use_metrics: [Total_Item_Requests, Unique_Item_Requests]"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"validate", bad, "--warehouse", wh}, 1, "bad.yaml:38: avisarkiv-2025.participants[2].library: unknown library 2169999"},
		{[]string{"import", mixed, "--warehouse", wh}, 1, "filmtjeneste-2025.use_metrics: Total_Item_Requests + Unique_Item_Requests: a Unique_ metric cannot be added to a Total_ metric"},
		{[]string{"value", "nope", "--warehouse", wh}, 1, `agreement "nope": no such agreement`},
		{[]string{"value", "--warehouse", wh}, 2, "want 1 argument"},
		{[]string{"list", "--warehouse", filepath.Join(t.TempDir(), "missing.duckdb")}, 1, "'bibstat demo'"},
		{[]string{"frobnicate"}, 2, "unknown subcommand"},
		{nil, 2, "no subcommand"},
	}
	for _, tt := range tests {
		_, errs, code := runAgreements(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
		}
	}
}

// agreementSums is a checksum of every agreement table of the warehouse
// file, rows in their order.
func agreementSums(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	for _, tb := range []string{"agreements", "agreement_participants", "agreement_history", "agreement_imports"} {
		var s string
		if err := db.QueryRow(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' ORDER BY rowid)), '') FROM ` + tb + ` t`).Scan(&s); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		out[tb] = s
	}
	return out
}

// TestAgreementsSurviveRebuild runs the commands an operator would: the
// demo, a changed import, 'transform --rebuild', a warehouse file deleted
// by hand and 'transform' again; every agreement table comes back equal
// and 'agreements list' and 'history' print the same.
func TestAgreementsSurviveRebuild(t *testing.T) {
	dir := t.TempDir()
	e, _ := testEnv(t)
	if _, err := buildDemo(context.Background(), e, demoOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	wh, archive := filepath.Join(dir, "warehouse.duckdb"), filepath.Join(dir, "archive")
	b, err := os.ReadFile("../../agreements/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(t.TempDir(), "changed.yaml")
	if err := os.WriteFile(changed, bytes.Replace(b, []byte("price_nok: 90000"), []byte("price_nok: 99000"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := runAgreements(t, "import", changed, "--warehouse", wh, "--by", "kari"); code != 0 ||
		!strings.Contains(out, "filmtjeneste-2025: price_nok 90 000,00 → 99 000,00") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	listed := func() string {
		t.Helper()
		list, errs, code := runAgreements(t, "list", "--warehouse", wh)
		hist, errs2, code2 := runAgreements(t, "history", "--warehouse", wh)
		if code != 0 || code2 != 0 {
			t.Fatalf("list: exit %d %d\n%s%s", code, code2, errs, errs2)
		}
		return list + hist
	}
	want, wantSums := listed(), agreementSums(t, wh)
	if strings.Count(want, "2025-01–2025-12") != 3 || !strings.Contains(want, "kari") || !strings.Contains(want, "demo") {
		t.Fatalf("before the rebuild:\n%s", want)
	}
	transform := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(context.Background(), append([]string{"transform", "--archive", archive, "--warehouse", wh}, args...), &out, &errb); err != nil {
			t.Fatalf("transform %v: %v\n%s", args, err, errb.String())
		}
	}
	transform("--rebuild")
	if got := agreementSums(t, wh); !maps.Equal(got, wantSums) {
		t.Errorf("after transform --rebuild:\n%v\nwant\n%v", got, wantSums)
	}
	if got := listed(); got != want {
		t.Errorf("after transform --rebuild:\n%s\nwant\n%s", got, want)
	}
	if err := os.Remove(wh); err != nil {
		t.Fatal(err)
	}
	transform()
	if got := agreementSums(t, wh); !maps.Equal(got, wantSums) {
		t.Errorf("after deleting the warehouse:\n%v\nwant\n%v", got, wantSums)
	}
	if got := listed(); got != want {
		t.Errorf("after deleting the warehouse:\n%s\nwant\n%s", got, want)
	}
}

// TestAgreementsImportSaysWhatItChanges: a removal needs --yes, and
// without it, or with --dry-run, nothing is stored.
func TestAgreementsImportSaysWhatItChanges(t *testing.T) {
	wh := agreementsWarehouse(t)
	archive := filepath.Join(filepath.Dir(wh), "archive")
	example := "../../agreements/example.yaml"
	if out, errs, code := runAgreements(t, "import", example, "--warehouse", wh, "--by", "kari"); code != 0 || !strings.Contains(out, "stored register/agreements/") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	fewer := filepath.Join(t.TempDir(), "fewer.yaml")
	cut := bytes.Index(b, []byte("  - id: filmtjeneste-2025"))
	if err := os.WriteFile(fewer, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	stored := func() int {
		keys, _ := filepath.Glob(filepath.Join(archive, "register", "agreements", "*.yaml"))
		return len(keys)
	}
	tests := []struct {
		args          []string
		code          int
		inOut, inErrs string
		stored        int
	}{
		{[]string{"--dry-run"}, 0, "removed   filmtjeneste-2025\nunchanged avisarkiv-2025, leksikon-2025\ndry run: nothing stored", "", 1},
		{nil, 1, "removed   filmtjeneste-2025", "would remove filmtjeneste-2025; nothing stored (rerun with --yes", 1},
		{[]string{"--yes"}, 0, "stored register/agreements/", "", 2},
	}
	for _, tt := range tests {
		out, errs, code := runAgreements(t, append([]string{"import", fewer, "--warehouse", wh, "--by", "kari"}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.inOut) || !strings.Contains(errs, tt.inErrs) || stored() != tt.stored {
			t.Errorf("import %v: exit %d, %d stored\n%s%s\nwant exit %d, %d stored, %q and %q", tt.args, code, stored(), out, errs, tt.code, tt.stored, tt.inOut, tt.inErrs)
		}
	}
	if out, _, _ := runAgreements(t, "list", "--warehouse", wh); strings.Contains(out, "filmtjeneste") {
		t.Errorf("list after the removal:\n%s", out)
	}
	// As of the first import, which the store's first record dates.
	recs, _ := filepath.Glob(filepath.Join(archive, "register", "agreements", "*.import.json"))
	var first struct{ At time.Time }
	if len(recs) == 0 {
		t.Fatal("no import record in the store")
	}
	if rb, err := os.ReadFile(recs[0]); err != nil || json.Unmarshal(rb, &first) != nil {
		t.Fatalf("read %s: %v", recs[0], err)
	}
	old, errs, code := runAgreements(t, "show", "filmtjeneste-2025", "--as-of", first.At.Format(time.RFC3339Nano), "--warehouse", wh)
	if code != 0 || !strings.Contains(old, "id:            filmtjeneste-2025") {
		t.Errorf("show --as-of before the removal: exit %d\n%s%s", code, old, errs)
	}
}
