package server

import (
	"context"
	"database/sql"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/report"
)

// worldWithComparison adds mart_source_comparison to the world, as H1's
// marts make it: "nyheter" has both sources in 2025-01..03 for Oslo and
// Bergen, and in January for a library the register lacks. Oslo drifts in
// March (150 against 100); Bergen's logins are missing in February.
var worldWithComparison = sync.OnceValue(func() error {
	wh, err := worldWarehouse()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := wh.DB.ExecContext(ctx, `CREATE OR REPLACE TABLE mart_source_comparison (library_id VARCHAR, platform VARCHAR,
		month DATE, metric_type VARCHAR, vendor_count BIGINT, login_count BIGINT, difference BIGINT, counted_source VARCHAR)`); err != nil {
		return err
	}
	type row struct {
		lib, metric   string
		month         int
		vendor, login sql.NullInt64
	}
	n := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	rows := []row{
		{"2030100", "Total_Item_Requests", 1, n(100), n(100)}, {"2030100", "Total_Item_Requests", 2, n(120), n(110)},
		{"2030100", "Total_Item_Requests", 3, n(150), n(100)},
		{"2120100", "Total_Item_Requests", 1, n(80), n(78)}, {"2120100", "Total_Item_Requests", 2, n(90), sql.NullInt64{}},
		{"2120100", "Total_Item_Requests", 3, n(70), n(72)},
		{"2999999", "Total_Item_Requests", 1, n(5), n(5)},
		{"2030100", "Unique_Item_Requests", 1, n(50), n(49)}, {"2030100", "Unique_Item_Requests", 2, n(50), n(49)},
		{"2030100", "Unique_Item_Requests", 3, n(50), n(49)},
	}
	for _, r := range rows {
		var diff sql.NullInt64
		if r.vendor.Valid && r.login.Valid {
			diff = n(r.vendor.Int64 - r.login.Int64)
		}
		if _, err := wh.DB.ExecContext(ctx, `INSERT INTO mart_source_comparison VALUES (?, 'nyheter', ?, ?, ?, ?, ?, 'counter')`,
			r.lib, time.Date(2025, time.Month(r.month), 1, 0, 0, 0, 0, time.UTC), r.metric, r.vendor, r.login, diff); err != nil {
			return err
		}
	}
	return nil
})

func compareFixture(t *testing.T) *httptest.Server {
	t.Helper()
	if err := worldWithComparison(); err != nil {
		t.Fatal(err)
	}
	return exploreFixture(t)
}

var pageTags = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)

// pageText is what a reader sees of a page, its spaces folded.
func pageText(body string) string {
	return strings.Join(strings.Fields(html.UnescapeString(pageTags.ReplaceAllString(body, " "))), " ")
}

func TestExploreCompare(t *testing.T) {
	ts := compareFixture(t)
	tests := []struct {
		user, query string
		status      int
		want, not   []string
	}{
		{"oslo", "", 200, []string{
			"Oslo verdensbibliotek: " + hostileName, "Tallet som teller: leverandørens COUNTER-rapport.",
			"mars 2025 150 100 +50 +50,0 %",
			"I 1 av 3 måneder med tall fra begge kildene skilte tallene seg med mer enn 10 %: mars 2025 (+50,0 %).",
		}, []string{"Bergen verdensbibliotek", "Hele landet:", "counter"}},
		{"oslo", "?library=2120100", 403, []string{"Du har ikke tilgang til Bergen verdensbibliotek (2120100)."}, []string{"+50"}},
		{"oslo", "?platform=medier", 400, []string{"Ukjent tjeneste"}, nil}, // medier has no logins
		{"admin", "?national=1", 200, []string{
			"Hele landet: " + hostileName,
			"jan. 2025 185 183 +2 +1,1 % 3 av 3", "feb. 2025 120 110 +10 +9,1 % 1 av 2", "mars 2025 220 172 +48 +27,9 % 2 av 2",
		}, nil},
		{"fylke46", "", 200, []string{
			"Vestland (hele fylket): " + hostileName,
			"feb. 2025 ingen data ingen data ingen data ingen data 0 av 1", "mars 2025 70 72 −2 −2,8 % 1 av 1",
			"Måneder som mangler tall fra én av kildene: 1 måned.",
		}, []string{"Oslo"}},
		{"oslo", "?metric=Unique_Item_Requests", 200, []string{"Tallene skilte seg ikke med mer enn 10 % i noen måned (3 måneder med tall fra begge kildene)."}, nil},
	}
	for _, tt := range tests {
		c := login(t, ts.URL, tt.user)
		status, _, body := fetch(t, ts.URL, "/utforsk/sammenligning"+tt.query, c)
		if status != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.user, tt.query, status, tt.status)
		}
		if strings.Contains(body, hostileName) {
			t.Errorf("%s %s: vendor text unescaped", tt.user, tt.query)
		}
		text := pageText(body)
		for _, w := range tt.want {
			if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s %s lacks %q", tt.user, tt.query, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(text, n) {
				t.Errorf("%s %s has %q", tt.user, tt.query, n)
			}
		}
	}
}

func TestExploreCompareDownload(t *testing.T) {
	ts := compareFixture(t)
	c := login(t, ts.URL, "fylke46")
	status, h, body := fetch(t, ts.URL, "/utforsk/sammenligning?county=46&format=csv-machine", c)
	if status != 200 || !strings.Contains(h.Get("Content-Disposition"), "bibstat-sammenligning-total_item_requests-2025-01-2025-03-machine.csv") {
		t.Fatalf("status %d, %q", status, h.Get("Content-Disposition"))
	}
	lines := strings.Split(strings.TrimPrefix(strings.TrimSpace(body), "\ufeff"), "\n")
	want := []string{
		"Library_ID,Library_Name,Platform,Month,Metric_Type,Vendor_Count,Login_Count,Difference,Difference_Percent,Counted_Source",
		"2120100,Bergen verdensbibliotek,nyheter,2025-01,Total_Item_Requests,80,78,2,2.5641,counter",
		// A missing figure is an empty cell, never 0.
		"2120100,Bergen verdensbibliotek,nyheter,2025-02,Total_Item_Requests,90,,,,counter",
		"2120100,Bergen verdensbibliotek,nyheter,2025-03,Total_Item_Requests,70,72,-2,-2.7778,counter",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("download:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if status, _, _ := fetch(t, ts.URL, "/utforsk/sammenligning?library=2030100&format=xlsx", c); status != http.StatusForbidden {
		t.Errorf("another county's library downloaded: %d", status)
	}
}

// TestExploreCompareLanguages walks the comparison in each language for
// another language's words and raw COUNTER names or source ids.
func TestExploreCompareLanguages(t *testing.T) {
	ts := compareFixture(t)
	admin := login(t, ts.URL, "admin")
	raw := regexp.MustCompile(`\b[A-Z][a-z]+_[A-Z][A-Za-z_]+\b|access-log|\bcounter\b`)
	for lang, words := range exploreCatalog {
		own := map[string]bool{}
		for _, s := range phrases(words) {
			own[s] = true
		}
		m, _ := report.Catalog(lang)
		_, _, body := fetch(t, ts.URL, "/utforsk/sammenligning?national=1&county=46&library=2030100&lang="+string(lang), admin)
		text := pageText(body)
		if !strings.Contains(text, m.Comparison.Vendor) {
			t.Errorf("%s: the page lacks its comparison", lang)
		}
		if ids := raw.FindAllString(text, -1); len(ids) > 0 {
			t.Errorf("%s shows raw identifiers %v", lang, ids)
		}
		for other, ow := range exploreCatalog {
			if other == lang {
				continue
			}
			for _, s := range phrases(ow) {
				if !own[s] && containsWords(text, s) {
					t.Errorf("%s has %s words: %q", lang, other, s)
				}
			}
		}
	}
}

// A warehouse without the comparison mart gets a page that says so.
func TestExploreCompareWithoutMart(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, _ := portalConfig(t, db, nil)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	status, _, body := fetch(t, ts.URL, "/utforsk/sammenligning", login(t, ts.URL, "admin"))
	if status != 200 || !strings.Contains(pageText(body), exploreCatalog["nb"].CompareNone) {
		t.Errorf("status %d: %s", status, pageText(body))
	}
}
