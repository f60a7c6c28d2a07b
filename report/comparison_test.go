package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bibliotek24/bibstat/transform"
)

// comparisonFixture is mart_source_comparison as H1's marts make it, for
// the hostile site's two libraries in 2025: Avisarkivet counted from the
// vendor, with a month that drifts (March, Oslo's logins 800 against the
// vendor's 1 030), a month Tromsø's vendor figure is missing (December), a
// month both say 0 and one the logins say 0 and the vendor 20 (Tromsø, June
// and July); and a platform with a hostile id, counted from the logins.
func addComparison(ctx context.Context, db *sql.DB) error {
	var kind string
	err := db.QueryRowContext(ctx, `SELECT table_type FROM information_schema.tables WHERE table_name = 'mart_source_comparison'`).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = nil
	case err != nil:
		return err
	case kind == "VIEW":
		_, err = db.ExecContext(ctx, `DROP VIEW mart_source_comparison`)
	default:
		_, err = db.ExecContext(ctx, `DROP TABLE mart_source_comparison`)
	}
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE mart_source_comparison (library_id VARCHAR, platform VARCHAR, month DATE,
		metric_type VARCHAR, vendor_count BIGINT, login_count BIGINT, difference BIGINT, counted_source VARCHAR)`); err != nil {
		return err
	}
	add := func(lib, platform string, month int, metric string, vendor, login *int64, counted string) error {
		var diff *int64
		if vendor != nil && login != nil {
			d := *vendor - *login
			diff = &d
		}
		_, err := db.ExecContext(ctx, `INSERT INTO mart_source_comparison VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			lib, platform, time.Date(2025, time.Month(month), 1, 0, 0, 0, 0, time.UTC), metric, vendor, login, diff, counted)
		return err
	}
	n := func(v int64) *int64 { return &v }
	for mo := 1; mo <= 12; mo++ {
		oslo := int64(1000 + 10*mo)
		osloLogin, tromso, tromsoLogin := oslo, n(500), n(480)
		if mo == 3 {
			osloLogin = 800
		}
		switch mo {
		case 6:
			tromso, tromsoLogin = n(0), n(0)
		case 7:
			tromso, tromsoLogin = n(20), n(0)
		case 12:
			tromso = nil
		}
		for _, err := range []error{
			add("2030100", "avisarkiv", mo, "Total_Item_Requests", n(oslo), n(osloLogin), "counter"),
			add("2030100", "avisarkiv", mo, "Unique_Item_Requests", n(600), n(590), "counter"),
			add("2190200", "avisarkiv", mo, "Total_Item_Requests", tromso, tromsoLogin, "counter"),
		} {
			if err != nil {
				return err
			}
		}
		if mo <= 3 {
			if err := add("2030100", hostile[0], mo, "Total_Item_Requests", n(10), n(12), "access-log"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText fails t for each of want that a page's text lacks and each of
// not that it has, spaces folded.
func checkText(t *testing.T, page, text string, want, not []string) {
	t.Helper()
	text = strings.Join(strings.Fields(text), " ")
	for _, w := range want {
		if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("%s lacks %q", page, w)
		}
	}
	for _, n := range not {
		if strings.Contains(text, n) {
			t.Errorf("%s has %q", page, n)
		}
	}
}

// readPage is a built page's visible text, its spaces folded.
func readPage(t *testing.T, site, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(visibleText(string(b))), " ")
}

func TestComparisonPages(t *testing.T) {
	site := buildHostileSite(t, "nb")
	cases := []struct {
		page      string
		want, not []string
	}{
		{"sammenligning/avisarkiv.html", []string{
			"Avisarkivet: leverandørens tall mot innloggingene",
			"Tallet som teller: leverandørens COUNTER-rapport.",
			"Visninger og nedlastinger: leverandørens tall og innloggingene per måned",
			"Innhold åpnet, unikt per økt: leverandørens tall og innloggingene per måned",
			// March: Oslo 1 030 against 800, Tromsø 500 against 480.
			"mars 2025 1 530 1 280 +250 +19,5 % 2 av 2",
			// December: Tromsø's vendor figure is missing, so only Oslo is summed.
			"des. 2025 1 120 1 120 0 +0,0 % 1 av 2",
			"I 1 av 12 måneder med tall fra begge kildene skilte tallene seg med mer enn 10 %: mars 2025 (+19,5 %).",
			"Tallene skilte seg ikke med mer enn 10 % i noen måned (12 måneder med tall fra begge kildene).",
			"Bibliotekene: Visninger og nedlastinger", "Tromsø demobibliotek 11 av 12 måneder",
			"CSV for regneark",
		}, []string{"access-log", "counter "}},
		{"sammenligning/avisarkiv/2190200.html", []string{
			"Avisarkivet, Tromsø demobibliotek: leverandørens tall mot innloggingene",
			"des. 2025 ingen data 480 ingen data ingen data",
			"juli 2025 20 0 +20 kan ikke regnes", "juni 2025 0 0 0 +0,0 %",
			"I 1 av 11 måneder med tall fra begge kildene skilte tallene seg med mer enn 10 %: juli 2025.",
			"Måneder som mangler tall fra én av kildene: 1 måned.",
			"Avisarkivet for alle bibliotekene", "Bruksstatistikken til Tromsø demobibliotek",
		}, nil},
		{"bibliotek/2190200.html", []string{"Leverandørens tall mot innloggingene", "Avisarkivet leverandørens COUNTER-rapport 1 av 11 måneder"},
			[]string{"innloggingene 3 av 3 måneder"}}, // the hostile platform is Oslo's only
		{"nasjonalt.html", []string{"Leverandørens tall mot innloggingene", "Avisarkivet leverandørens COUNTER-rapport 1 av 12 måneder",
			"innloggingene 3 av 3 måneder"}, nil},
	}
	for _, c := range cases {
		checkText(t, c.page, readPage(t, site, c.page), c.want, c.not)
	}
	b, err := os.ReadFile(filepath.Join(site, "bibliotek", "2190200.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `href="../sammenligning/avisarkiv/2190200.html"`) {
		t.Error("the library page does not link its comparison")
	}
	// The hostile platform's page is named by a digest, its text escaped.
	hp := comparisonPage(hostile[0], "")
	if !strings.HasPrefix(hp, "sammenligning/p-") {
		t.Errorf("hostile platform's page: %s", hp)
	}
	hb, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(hp)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(hb), hostile[0]) || strings.Contains(string(hb), "<img") {
		t.Error("vendor text unescaped on the comparison page")
	}
	if !strings.Contains(readPage(t, site, hp), "Tallet som teller: innloggingene.") {
		t.Error("the hostile platform's page does not say the logins count")
	}
}

func TestComparisonDownloads(t *testing.T) {
	site := buildHostileSite(t, "nb")
	b, err := os.ReadFile(filepath.Join(site, "sammenligning", "avisarkiv-sammenligning.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b, ';')
	if got := strings.Join(recs[0], "|"); got != "Biblioteknummer|Bibliotek|Tjeneste|Måned|Type bruk|Leverandørens tall|Målt fra innloggingene|Forskjell|Forskjell i prosent|Tallet som teller" {
		t.Errorf("header %s", got)
	}
	find := func(recs [][]string, lib, month, metric string) []string {
		for _, r := range recs {
			if r[0] == lib && r[3] == month && r[4] == metric {
				return r
			}
		}
		t.Fatalf("no row %s %s %s", lib, month, metric)
		return nil
	}
	if r := find(recs, "2190200", "2025-12", "Visninger og nedlastinger"); r[5] != "" || r[6] != "480" || r[7] != "" || r[8] != "" {
		t.Errorf("a missing vendor figure is not an empty cell: %q", r)
	}
	if r := find(recs, "2030100", "2025-03", "Visninger og nedlastinger"); r[7] != "230" || r[8] != "28,8" || r[9] != "leverandørens COUNTER-rapport" {
		t.Errorf("March in Oslo: %q", r)
	}
	b, err = os.ReadFile(filepath.Join(site, "sammenligning", "avisarkiv-sammenligning-maskin.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs = readCSV(t, b, ',')
	if r := find(recs, "2030100", "2025-03", "Total_Item_Requests"); r[2] != "avisarkiv" || r[8] != "28.75" || r[9] != "counter" {
		t.Errorf("machine row: %q", r)
	}
	f, err := excelize.OpenFile(filepath.Join(site, "sammenligning", "avisarkiv", "2190200-sammenligning.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows("Sammenligning")
	if err != nil {
		t.Fatal(err)
	}
	if r := find(xrows[1:], "2190200", "2025-12", "Visninger og nedlastinger"); len(r) < 7 || r[5] != "" || r[6] != "480" {
		t.Errorf("XLSX: a missing vendor figure is not an empty cell: %q", r)
	}
}

// A warehouse made before the comparison mart has no comparison, and no error.
func TestComparisonWithoutMart(t *testing.T) {
	site := newHostileSite(t, "nb")
	if _, err := site.DB.Exec(`DROP TABLE mart_source_comparison`); err != nil {
		t.Fatal(err)
	}
	if _, err := site.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(site.Out, "sammenligning")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("comparison pages without the mart: %v", err)
	}
	if text := readPage(t, site.Out, "nasjonalt.html"); strings.Contains(text, "innloggingene") {
		t.Error("the national page speaks of a comparison it has not")
	}
}

func TestComparisonPercentAndDrift(t *testing.T) {
	n := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	row := func(vendor, login sql.NullInt64) ComparisonRow {
		r := ComparisonRow{Vendor: vendor, Login: login}
		if vendor.Valid && login.Valid {
			r.Difference = n(vendor.Int64 - login.Int64)
		}
		return r
	}
	tests := []struct {
		r      ComparisonRow
		pct    float64
		ok     bool
		drifts bool
	}{
		{row(n(110), n(100)), 10, true, false}, // exactly 10 % is not more than 10 %
		{row(n(111), n(100)), 11, true, true},
		{row(n(89), n(100)), -11, true, true},
		{row(n(0), n(0)), 0, true, false},
		{row(n(5), n(0)), 0, false, true},
		{row(sql.NullInt64{}, n(100)), 0, false, false},
		{row(n(100), sql.NullInt64{}), 0, false, false},
	}
	for _, tt := range tests {
		p, ok := tt.r.Percent()
		if p != tt.pct || ok != tt.ok || tt.r.Drifts() != tt.drifts {
			t.Errorf("%+v: percent %v %v, drifts %v; want %v %v, %v", tt.r, p, ok, tt.r.Drifts(), tt.pct, tt.ok, tt.drifts)
		}
	}
}

// Whatever the rows, a sum adds exactly the libraries with both figures,
// its difference is its vendor figure less its login-measured one, and a
// figure that is not there is never shown as 0.
func TestComparisonSumProperty(t *testing.T) {
	m := catalog["nb"]
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		var rows []ComparisonRow
		want := map[string][3]int64{} // month → vendor, login, both
		for lib := range 1 + rng.IntN(6) {
			for mo := 1; mo <= 1+rng.IntN(4); mo++ {
				r := ComparisonRow{Library: fmt.Sprint(lib), Platform: "p", Metric: "Total_Item_Requests",
					Month: time.Date(2025, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)}
				if rng.IntN(4) > 0 {
					r.Vendor = sql.NullInt64{Int64: rng.Int64N(1000), Valid: true}
				}
				if rng.IntN(4) > 0 {
					r.Login = sql.NullInt64{Int64: rng.Int64N(1000), Valid: true}
				}
				if r.Vendor.Valid && r.Login.Valid {
					r.Difference = sql.NullInt64{Int64: r.Vendor.Int64 - r.Login.Int64, Valid: true}
					k := r.Month.Format("2006-01")
					w := want[k]
					want[k] = [3]int64{w[0] + r.Vendor.Int64, w[1] + r.Login.Int64, w[2] + 1}
				}
				rows = append(rows, r)
			}
		}
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, s := range SumComparison(rows) {
			w := want[s.Month.Format("2006-01")]
			if s.Vendor.Valid != (w[2] > 0) || s.Vendor.Int64 != w[0] || s.Login.Int64 != w[1] || int64(s.Both) != w[2] ||
				s.Difference.Int64 != s.Vendor.Int64-s.Login.Int64 || s.Both > s.Libraries {
				t.Fatalf("case %d, %s: sum %+v, want vendor %d login %d of %d libraries", i, s.Month.Format("2006-01"), s, w[0], w[1], w[2])
			}
			cells := m.ComparisonCells(s)
			if !s.Vendor.Valid && (cells[0] != m.NoData || cells[1] != m.NoData || cells[2] != m.NoData) {
				t.Fatalf("case %d: a month without both figures shows %q", i, cells)
			}
		}
		for _, r := range rows {
			cells := m.ComparisonCells(r)
			if (!r.Vendor.Valid && cells[0] != m.NoData) || (!r.Login.Valid && cells[1] != m.NoData) {
				t.Fatalf("case %d: a missing figure shows as %q", i, cells)
			}
		}
	}
}

// BenchmarkComparisonPages writes every comparison page and download of a
// national shape (450 libraries, 2 platforms with both sources, 36 months,
// 6 metrics: 194,400 mart rows, 902 pages) from rows already read: the Go
// work a build adds for the comparison, one page after the other.
func BenchmarkComparisonPages(b *testing.B) {
	benchLibraries := 450
	if testing.Short() {
		benchLibraries = 100
	}
	metrics := []string{"Total_Item_Requests", "Unique_Item_Requests", "Unique_Title_Requests",
		"Total_Item_Investigations", "Unique_Item_Investigations", "Searches_Platform"}
	var rows []ComparisonRow
	var libs []libraryRow
	for l := range benchLibraries {
		id := fmt.Sprint(2000000 + l*100)
		libs = append(libs, libraryRow{ID: id, Name: "Bibliotek " + id})
		for _, platform := range []string{"avisarkiv", "leksikon"} {
			for mo := range 36 {
				for i, mt := range metrics {
					v := int64(100 + l + mo + i)
					r := ComparisonRow{Library: id, Platform: platform, Metric: mt, Month: time.Date(2023, time.Month(1+mo), 1, 0, 0, 0, 0, time.UTC),
						Vendor: sql.NullInt64{Int64: v, Valid: true}, Login: sql.NullInt64{Int64: v - int64(mo%7), Valid: mo%11 != 0}, Counted: CountedCounter}
					if r.Login.Valid {
						r.Difference = sql.NullInt64{Int64: r.Vendor.Int64 - r.Login.Int64, Valid: true}
					}
					rows = append(rows, r)
				}
			}
		}
	}
	m := catalog["nb"]
	common := page{M: m}
	b.ReportAllocs()
	for b.Loop() {
		s := &Site{Out: b.TempDir()}
		s.comparison = groupComparison(rows)
		pages := 0
		emit := func(rel, tpl string, p page) error {
			pages++
			return s.render(filepath.Join(s.Out, filepath.FromSlash(rel)), tpl, p)
		}
		for _, job := range s.comparisonJobs(common, libs, emit) {
			if err := job(); err != nil {
				b.Fatal(err)
			}
		}
		for _, l := range libs {
			s.comparisonLinks(m, l.ID)
		}
		b.ReportMetric(float64(pages), "pages")
	}
}

// TestComparisonFromTheMarts reads the comparison the marts make (H1's
// mart_source_comparison) from a vendor's and the logins' units of one
// library, with the logins counting: the page shows the mart's figures,
// and the month without logins, counted from the vendor, is named.
func TestComparisonFromTheMarts(t *testing.T) {
	ctx := context.Background()
	wh, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"),
		transform.Options{CountSource: map[string]string{"avisarkiv": CountedAccessLog}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.PutLibraries(ctx, []transform.Library{{ID: "2030100", Name: "Oslo", Municipality: "0301", Type: "FBI"}}); err != nil {
		t.Fatal(err)
	}
	type unit struct {
		source string
		month  int
		count  int64
	}
	for i, u := range []unit{{"sushi", 1, 70}, {CountedAccessLog, 1, 50}, {"sushi", 2, 40}, {"sushi", 3, 30}, {CountedAccessLog, 3, 30}} {
		month := time.Date(2025, time.Month(u.month), 1, 0, 0, 0, 0, time.UTC)
		key := fmt.Sprintf("u/%s/%d/", u.source, i)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO facts_loose (unit_key, library_id, release, report_id, platform, title, metric_type, month, count, institution_id, customer_id)
				VALUES (?, '2030100', '5.1', 'PR', 'avisarkiv', '', 'Total_Item_Requests', ?, ?, '', '')`, []any{key, month, u.count}},
			{`INSERT INTO loaded_units (unit_key, raw_key, parsed_key, library_id, platform, report_id, month, state, rows, release, source, harvested_at)
				VALUES (?, ?, '', '2030100', 'avisarkiv', 'PR', ?, 'ok', 1, '5.1', ?, TIMESTAMP '2025-04-01 02:00:00')`, []any{key, key, month, u.source}},
			{`INSERT OR IGNORE INTO dirty_months VALUES (?)`, []any{month}},
		} {
			if _, err := wh.DB.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := wh.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	site := &Site{DB: wh.DB, Out: filepath.Join(t.TempDir(), "site"), Platforms: map[string]string{"avisarkiv": "Avisarkivet"}}
	if _, err := site.Build(ctx); err != nil {
		t.Fatal(err)
	}
	page := "sammenligning/avisarkiv/2030100.html"
	checkText(t, page, readPage(t, site.Out, page), []string{
		"Tallet som teller: innloggingene; leverandørens COUNTER-rapport i feb. 2025.",
		"jan. 2025 70 50 +20 +40,0 %", "feb. 2025 40 ingen data ingen data ingen data", "mars 2025 30 30 0 +0,0 %",
	}, nil)
}

func TestComparisonCountedSentence(t *testing.T) {
	m := catalog["nb"]
	at := func(mo int, src string) ComparisonRow {
		return ComparisonRow{Month: time.Date(2025, time.Month(mo), 1, 0, 0, 0, 0, time.UTC), Counted: src}
	}
	tests := []struct {
		rows        []ComparisonRow
		want, words string
	}{
		{nil, "", ""},
		{[]ComparisonRow{at(1, CountedCounter), at(1, CountedCounter), at(2, CountedCounter)},
			"Tallet som teller: leverandørens COUNTER-rapport.", "leverandørens COUNTER-rapport"},
		{[]ComparisonRow{at(1, CountedAccessLog), at(2, CountedCounter), at(3, CountedAccessLog), at(4, "")},
			"Tallet som teller: innloggingene; leverandørens COUNTER-rapport i feb. 2025; ulikt fra bibliotek til bibliotek i apr. 2025.",
			"innloggingene (ikke alle måneder)"},
		{[]ComparisonRow{at(1, CountedAccessLog), at(2, CountedCounter)}, // a tie: the vendor's, the default
			"Tallet som teller: leverandørens COUNTER-rapport; innloggingene i jan. 2025.", "leverandørens COUNTER-rapport (ikke alle måneder)"},
	}
	for _, tt := range tests {
		if got := m.CountedSentence(tt.rows); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.rows, got, tt.want)
		}
		if tt.rows != nil {
			if got := m.countedWords(tt.rows); got != tt.words {
				t.Errorf("%v: words %q, want %q", tt.rows, got, tt.words)
			}
		}
	}
}
