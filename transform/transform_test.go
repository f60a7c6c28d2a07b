package transform

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// harvest is one archived harvest of a unit, as ingest would leave it:
// raw object, parsed Parquet and sidecar.
type harvest struct {
	platform, cred string
	vendor         string            // set: an upload under this vendor id, its unit keyed by lib
	sha            string            // the raw object's sha256, when a test needs it
	release        string            // the sidecar's release when there are no rows
	lib            bibstat.LibraryID // '' for an upload that names none
	report         bibstat.ReportID
	month          string
	at             time.Time
	rows           []schemas.Row
}

// use is one usage row: release, report, metric, Institution_ID, count.
type use struct {
	release, report, metric, inst string
	count                         int64
}

func (h harvest) with(uses ...use) harvest {
	m, _ := bibstat.ParseMonth(h.month)
	for _, u := range uses {
		h.rows = append(h.rows, schemas.Row{Release: u.release, ReportID: u.report, MetricType: u.metric,
			InstitutionID: u.inst, Platform: h.platform, Month: m.First(), Count: u.count})
	}
	return h
}

func archive(t *testing.T, st store.Store, h harvest) {
	t.Helper()
	ctx := context.Background()
	m, err := bibstat.ParseMonth(h.month)
	if err != nil {
		t.Fatal(err)
	}
	u := bibstat.Unit{Platform: h.platform, Credential: h.cred, Report: h.report, Month: m}
	key, source := u.RawKey(h.at, "json"), "sushi"
	if h.vendor != "" {
		key, source = bibstat.UploadUnitPrefix(h.vendor, string(h.report), h.lib, m)+h.at.UTC().Format("20060102T150405Z")+".tsv", "upload"
	}
	release := h.release
	if len(h.rows) > 0 {
		release = h.rows[0].Release
	}
	for i := range h.rows {
		h.rows[i].SourceKey = key
	}
	pq, err := schemas.ParquetOf(h.rows)
	if err != nil {
		t.Fatal(err)
	}
	side := bibstat.Sidecar{Key: key, Source: source, Platform: h.platform, Credential: h.cred, Library: h.lib,
		Report: h.report, Month: h.month, HarvestedAt: h.at, State: bibstat.StateOK, Rows: int64(len(h.rows)), Release: release, SHA256: h.sha,
		ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version}
	js, _ := json.Marshal(side)
	for k, v := range map[string][]byte{key: []byte("{}"), side.ParsedKey: pq, key + bibstat.SidecarSuffix: js} {
		if err := st.Put(ctx, k, bytes.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
}

func putFile(t *testing.T, st store.Store, key, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

var (
	t0 = time.Date(2024, 2, 3, 1, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

// world archives the register and a first round of harvests covering the
// rules the marts must keep.
func world(t *testing.T) store.Store {
	st := store.NewMemory()
	putFile(t, st, bibstat.LibrariesXMLKey, "../testdata/library-register/basebibliotek.xml")
	for k, v := range map[string]string{
		bibstat.InstitutionsKey: "platform,id_kind,id_value,library_id,pool_id\n" +
			"film,institution_id,film:42,2030100,\n" +
			"*,institution_id,film:ip-pool,,p1\n",
		bibstat.PoolsKey: "pool_id,name,rule,metric_type,members\n" +
			"p1,Shared IP range,population,,2030100 2300500\n",
	} {
		if err := st.Put(context.Background(), k, strings.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	avis := func(lib bibstat.LibraryID, report bibstat.ReportID, month string, at time.Time) harvest {
		return harvest{platform: "avis", cred: string(lib), lib: lib, report: report, month: month, at: at}
	}
	for _, h := range []harvest{
		avis("2030100", "pr", "2023-12", t0).with(use{"5.1", "PR", "Total_Item_Requests", "", 10}, use{"5.1", "PR", "Unique_Item_Requests", "", 4}),
		avis("2030100", "pr", "2024-01", t0).with(use{"5.1", "PR", "Total_Item_Requests", "", 20}, use{"5.1", "PR", "Unique_Item_Requests", "", 8}),
		// The title report repeats the platform's metrics: only its own metric counts.
		avis("2030100", "tr", "2024-01", t0).with(use{"5.1", "TR", "Total_Item_Requests", "", 15}, use{"5.1", "TR", "Unique_Item_Requests", "", 6},
			use{"5.1", "TR", "Unique_Title_Requests", "", 3}),
		// R4 for a platform-month that has R5.1: never added.
		avis("2030100", "pr1", "2024-01", t0).with(use{"4", "PR1", "Total_Item_Requests", "", 999}),
		avis("2300500", "pr", "2023-12", t0).with(use{"5.1", "PR", "Total_Item_Requests", "", 5}),
		avis("2300500", "pr", "2024-01", t0).with(use{"5.1", "PR", "Total_Item_Requests", "", 7}),
		avis("2150700", "pr", "2024-01", t0).with(use{"5.1", "PR", "Total_Item_Requests", "", 100}),
		// An uploaded file names no library: its Institution_IDs decide.
		harvest{platform: "film", cred: "upload1", report: "pr", month: "2024-01", at: t0}.with(
			use{"5", "PR", "Total_Item_Requests", "ISIL:NO-3300501", 3},
			use{"5", "PR", "Total_Item_Requests", "film:42", 4},
			use{"5", "PR", "Total_Item_Requests", "film:ip-pool", 60},
			use{"5", "PR", "Total_Item_Requests", "film:nobody", 9}),
	} {
		archive(t, st, h)
	}
	return st
}

func openTest(t *testing.T, path string) *Warehouse {
	t.Helper()
	w, err := Open(context.Background(), path, Options{Threads: 2}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func query[T any](t *testing.T, db *sql.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestSupersessionNeverDoubleCounts(t *testing.T) {
	ctx := context.Background()
	st := world(t)
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	sum, err := w.Update(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 8 || sum.Units != 8 {
		t.Fatalf("first load %+v, want 8 units loaded", sum)
	}
	libTotal := `SELECT count FROM mart_library_month WHERE library_id = '2030100' AND platform = 'avis'
		AND metric_type = 'Total_Item_Requests' AND month = DATE '2024-01-01'`
	if n := query[int64](t, w.DB, libTotal); n != 20 {
		t.Errorf("before re-harvest: %d, want 20", n)
	}

	// The vendor restates January: the newer harvest replaces the older.
	archive(t, st, harvest{platform: "avis", cred: "2030100", lib: "2030100", report: "pr", month: "2024-01", at: t1}.with(
		use{"5.1", "PR", "Total_Item_Requests", "", 25}, use{"5.1", "PR", "Unique_Item_Requests", "", 9}))
	sum, err = w.Update(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 1 || sum.Unchanged != 7 {
		t.Errorf("re-harvest load %+v, want 1 loaded, 7 unchanged", sum)
	}
	if n := query[int64](t, w.DB, libTotal); n != 25 {
		t.Errorf("after re-harvest: %d, want 25", n)
	}
	if n := query[int64](t, w.DB, `SELECT sum(count) FROM facts WHERE library_id = '2030100' AND platform = 'avis'
		AND report_id = 'PR' AND metric_type = 'Total_Item_Requests' AND month = DATE '2024-01-01'`); n != 25 {
		t.Errorf("facts after re-harvest: %d, want 25", n)
	}
	sum, err = w.Update(ctx, st)
	if err != nil || sum.Loaded != 0 {
		t.Errorf("third load %+v, %v; want nothing loaded", sum, err)
	}
}

func TestMartRules(t *testing.T) {
	ctx := context.Background()
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	if _, err := w.Update(ctx, world(t)); err != nil {
		t.Fatal(err)
	}
	jan := "DATE '2024-01-01'"
	cases := []struct {
		name string
		q    string
		want float64
	}{
		{"PR wins over TR for the same metric", `SELECT count FROM mart_library_month WHERE library_id = '2030100' AND platform = 'avis' AND metric_type = 'Unique_Item_Requests' AND month = ` + jan, 8},
		{"a metric only TR has still counts", `SELECT count FROM mart_library_month WHERE library_id = '2030100' AND metric_type = 'Unique_Title_Requests' AND month = ` + jan, 3},
		{"R4 never added to R5.1", `SELECT count(*) FROM mart_library_month WHERE release = '4'`, 0},
		{"national avis January", `SELECT total FROM mart_national_month WHERE platform = 'avis' AND metric_type = 'Total_Item_Requests' AND month = ` + jan, 127},
		{"ISIL resolves an upload", `SELECT count FROM mart_library_month WHERE library_id = '3300501' AND platform = 'film'`, 3},
		{"mapping resolves a proprietary id", `SELECT count FROM mart_library_month WHERE library_id = '2030100' AND platform = 'film'`, 4},
		{"unattributed stays visible", `SELECT count FROM mart_unattributed WHERE platform = 'film' AND institution_id = 'film:nobody' AND month = ` + jan, 9},
		{"national film: attributed", `SELECT attributed FROM mart_national_month WHERE platform = 'film'`, 7},
		{"national film: pooled", `SELECT pooled FROM mart_national_month WHERE platform = 'film'`, 60},
		{"national film: unattributed", `SELECT unattributed FROM mart_national_month WHERE platform = 'film'`, 9},
		{"pool fully allocated", `SELECT sum(allocated) FROM mart_pool_allocation WHERE pool_id = 'p1'`, 60},
		{"pool rule recorded", `SELECT count(*) FROM mart_pool_allocation WHERE rule = 'population' AND basis > 0 AND basis_total > 0`, 2},
		{"Oslo's pool share by population", `SELECT round(allocated, 3) FROM mart_pool_allocation WHERE library_id = '2030100'`,
			math.Round(60*717710.0/(717710+float64(query[int64](t, w.DB, `SELECT population FROM municipalities WHERE municipality = '3301'`)))*1000) / 1000},
		{"old Drammen code: Viken in 2023", `SELECT total FROM mart_county_month WHERE county = '30' AND platform = 'avis' AND month = DATE '2023-12-01'`, 5},
		{"old Drammen code: Buskerud in 2024", `SELECT count FROM mart_county_month WHERE county = '33' AND platform = 'avis' AND month = ` + jan, 7},
		{"today's structure for 2023", `SELECT total FROM mart_county_month_current WHERE county = '33' AND platform = 'avis' AND month = DATE '2023-12-01'`, 5},
		{"split municipality stays whole in its county", `SELECT total FROM mart_county_month WHERE county = '15' AND month = ` + jan, 100},
		{"split weights sum to one", `SELECT sum(weight) FROM library_geo WHERE library_id = '2150700'`, 1},
		{"split library's county is its larger share's", `SELECT county::DOUBLE FROM library_county WHERE library_id = '2150700'`, 15},
		{"one county per library", `SELECT count(*) - count(DISTINCT library_id) FROM library_county`, 0},
		{"every library has its county row", `SELECT (SELECT count(*) FROM libraries) - count(*) FROM library_county`, 0},
		{"no county mart sums metrics", `SELECT count(DISTINCT metric_type) FROM mart_county_month WHERE county = '03' AND month = ` + jan, 3},
		{"per 1000 nationally", `SELECT round(per_1000, 6) FROM mart_per_1000 WHERE level = 'national' AND platform = 'film' AND month = ` + jan, math.Round(76*1000/5550203.0*1e6) / 1e6},
		{"year over year has last year's month", `SELECT count(*) FROM mart_yoy WHERE month = ` + jan + ` AND total_prior_year IS NOT NULL`, 0},
	}
	for _, c := range cases {
		var got float64
		if err := w.DB.QueryRowContext(ctx, c.q).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSchemaMismatchIsNeverRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	w, err := Open(ctx, path, Options{}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB.Exec(`UPDATE meta SET value = '1.1' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := Open(ctx, path, Options{}, quiet); !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), "bibstat transform --rebuild") {
		t.Fatalf("open of an old warehouse: %v, want ErrSchemaMismatch naming the command", err)
	}
	if _, err := Rebuild(ctx, path, Options{}, world(t), quiet); err != nil {
		t.Fatal(err)
	}
	w = openTest(t, path)
	if v := query[string](t, w.DB, `SELECT value FROM meta WHERE key = 'schema_version'`); v != SchemaVersion {
		t.Errorf("rebuilt version %s, want %s", v, SchemaVersion)
	}
}

func TestExportIsReadableWithoutBibStat(t *testing.T) {
	ctx := context.Background()
	w := openTest(t, filepath.Join(t.TempDir(), "w.duckdb"))
	if _, err := w.Update(ctx, world(t)); err != nil {
		t.Fatal(err)
	}
	dst := store.NewMemory()
	if err := dst.Put(ctx, "curated/mart_library_month/year=1999/month=01/data_0.parquet", strings.NewReader("stale")); err != nil {
		t.Fatal(err)
	}
	sum, err := w.Export(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tables != len(Marts) || sum.Files == 0 {
		t.Errorf("export %+v", sum)
	}
	keys, err := dst.List(ctx, bibstat.CuratedPrefix)
	if err != nil {
		t.Fatal(err)
	}
	// Copy the lake out of the store as any other tool would see it.
	lake := t.TempDir()
	for _, k := range keys {
		if k == LakeSchemaKey {
			continue // the lake's schema file, beside its tables (lake_test.go)
		}
		if strings.Contains(k, "year=1999") {
			t.Errorf("stale partition %s survived", k)
		}
		if !strings.HasPrefix(k, "curated/mart_") || !strings.Contains(k, "/year=20") || !strings.Contains(k, "/month=") {
			t.Errorf("key %s is not curated/<table>/year=YYYY/month=MM/…", k)
		}
		b, err := store.ReadAll(ctx, dst, k, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(lake, filepath.FromSlash(k))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(lake, "curated", "mart_library_month", "**", "*.parquet")
	q := `SELECT count(*) || ' ' || sum(count) || ' ' || count(*) FILTER (WHERE year = 2024 AND month = 1 AND year(period) = 2024)
		FROM read_parquet('` + glob + `', hive_partitioning = true)`
	got := query[string](t, db, q)
	want := query[string](t, w.DB, `SELECT count(*) || ' ' || sum(count) || ' ' || count(*) FILTER (WHERE month = DATE '2024-01-01') FROM mart_library_month`)
	if got != want {
		t.Errorf("lake has %s (rows, sum, January rows), warehouse %s", got, want)
	}
}

func TestLibraryRegisterImports(t *testing.T) {
	read := func(path string, parse func(io.Reader) ([]Library, error)) []Library {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		libs, err := parse(f)
		if err != nil {
			t.Fatal(err)
		}
		return libs
	}
	xml := read("../testdata/library-register/basebibliotek.xml", ReadBaseBibliotek)
	csv := read("../testdata/library-register/libraries.csv", ReadLibrariesCSV)
	if len(xml) != 6 || len(csv) != 6 {
		t.Fatalf("read %d from XML, %d from CSV, want 6", len(xml), len(csv))
	}
	for i := range xml {
		c := csv[i]
		c.Population = 0 // only the CSV carries it
		if xml[i] != c {
			t.Errorf("XML %+v\nCSV %+v", xml[i], c)
		}
	}
	want := map[bibstat.LibraryID]Library{
		"2030101": {ID: "2030101", ISIL: "NO-2030101", Name: "Testbiblioteket Oslo, filial Nord", Type: "FIL", Municipality: "0301", Parent: "2030100"},
		"2300500": {ID: "2300500", ISIL: "NO-2300500", Name: "Testbiblioteket Drammen", Type: "FBI", Municipality: "3005"},
		"2540100": {ID: "2540100", ISIL: "NO-2540100", Name: "Testbiblioteket Tromsø (nedlagt)", Type: "FBI", Municipality: "5401", Closed: true},
		"3300501": {ID: "3300501", ISIL: "NO-3300501", Name: "Testskolen videregående", Type: "VGS", Municipality: "3301"},
	}
	for _, l := range xml {
		if w, ok := want[l.ID]; ok && l != w {
			t.Errorf("got %+v\nwant %+v", l, w)
		}
	}

	bad := []struct{ name, csv string }{
		{"no kommnr column", "bibnr,name\n2030100,x\n"},
		{"bad bibnr", "bibnr,kommnr\n203010,0301\n"},
		{"bad kommnr", "bibnr,kommnr\n2030100,301\n"},
	}
	for _, b := range bad {
		if _, err := ReadLibrariesCSV(strings.NewReader(b.csv)); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}

func TestMappingAndPoolCSVErrors(t *testing.T) {
	cases := []struct {
		name string
		read func(io.Reader) error
		csv  string
	}{
		{"mapping to both", func(r io.Reader) error { _, err := ReadMappingsCSV(r); return err },
			"platform,id_kind,id_value,library_id,pool_id\nx,institution_id,a,2030100,p\n"},
		{"mapping to neither", func(r io.Reader) error { _, err := ReadMappingsCSV(r); return err },
			"platform,id_kind,id_value,library_id,pool_id\nx,institution_id,a,,\n"},
		{"bad id kind", func(r io.Reader) error { _, err := ReadMappingsCSV(r); return err },
			"platform,id_kind,id_value,library_id,pool_id\nx,ip,a,2030100,\n"},
		{"metric rule without metric", func(r io.Reader) error { _, err := ReadPoolsCSV(r); return err },
			"pool_id,name,rule,metric_type,members\np,P,metric,,2030100\n"},
		{"unknown rule", func(r io.Reader) error { _, err := ReadPoolsCSV(r); return err },
			"pool_id,name,rule,metric_type,members\np,P,usage,,2030100\n"},
	}
	for _, c := range cases {
		if err := c.read(strings.NewReader(c.csv)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestOpenFinishesAnInterruptedCreate: a crash while a warehouse is being
// created leaves tables but no schema version; the next Open must load the
// geography again instead of trusting a warehouse without it (a kill there
// once put all usage under an unknown county).
func TestOpenFinishesAnInterruptedCreate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	w, err := Open(ctx, path, Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM meta`, `DELETE FROM municipalities`, `DELETE FROM counties`} {
		if _, err := w.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	w, err = Open(ctx, path, Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer w.Close()
	var munis, counties int
	if err := w.DB.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM municipalities), (SELECT count(*) FROM counties)`).Scan(&munis, &counties); err != nil {
		t.Fatal(err)
	}
	if munis != 357 || counties < 15 {
		t.Errorf("after reopening: %d municipalities, %d counties", munis, counties)
	}
}
