package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/report"
)

// The explorer is tested over the mixed world (sushi_world_test.go): Oslo
// (2030100, county 03) and Bergen (2120100, county 46), platforms nyheter,
// medier (from 2025-01) and arkiv (until 2025-01), 2024-11 to 2025-03.

// hostileName is a platform's display name that tries to break out of
// every context it is written into.
const hostileName = `</script><script>alert(1)</script>"><img src=x onerror=alert(1)>`

const worldAgreements = `agreements:
  - id: nyheter-2025
    name: "Nyheter 2025 <b>"
    vendor: "\"><img src=x onerror=alert(1)>"
    platforms: [nyheter]
    data_type: content
    use_metrics: [Total_Item_Requests]
    period: {from: 2025-01, to: 2025-03}
    price_nok: 30000
    vat_included: true
    vat_rate: 0
    allocation: {model: flat}
    participants:
      - library: "2030100"
      - county: "46"
  - id: medier-2025
    name: "Medier 2025"
    vendor: "Mediehuset"
    platforms: [medier]
    data_type: multimedia
    period: {from: 2025-01, to: 2025-03}
    price_nok: 12000
    vat_included: true
    vat_rate: 0
    allocation: {model: flat}
    participants:
      - county: "46"
`

var worldWithAgreements = sync.OnceValue(func() error {
	wh, err := worldWarehouse()
	if err != nil {
		return err
	}
	ctx := context.Background()
	aw := &agreements.Warehouse{DB: wh.DB}
	known, err := aw.Known(ctx)
	if err != nil {
		return err
	}
	as, err := agreements.Parse("world.yaml", strings.NewReader(worldAgreements), known)
	if err != nil {
		return err
	}
	_, err = aw.Import(ctx, as, "world.yaml", time.Date(2025, 4, 6, 0, 0, 0, 0, time.UTC))
	return err
})

// exploreFixture is a portal over the world, with the users of
// portalConfig and one of county 46.
func exploreFixture(t *testing.T) *httptest.Server {
	t.Helper()
	if err := worldWithAgreements(); err != nil {
		t.Fatal(err)
	}
	wh, _ := worldWarehouse()
	cfg, _ := portalConfig(t, wh.DB, nil)
	cfg.Platforms = map[string]string{"nyheter": hostileName, "medier": "Mediebasen"}
	if _, err := cfg.Users.Add(User{Name: "fylke46", Role: RoleCounty, County: "46"}, testPassword, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// fetch GETs path (with its query) and returns status, header and body.
func fetch(t *testing.T, base, path string, c *http.Cookie) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// martSum is a figure read straight from a mart, to check the explorer by.
func martSum(t *testing.T, q string, args ...any) float64 {
	t.Helper()
	wh, _ := worldWarehouse()
	var v float64
	if err := wh.DB.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExploreAccessAndValidation(t *testing.T) {
	ts := exploreFixture(t)
	tests := []struct {
		user, query string
		want        int
		says        string
	}{
		{"oslo", "", 200, "Oslo verdensbibliotek"},
		{"oslo", "?library=2030100&metric=Unique_Item_Requests&platform=medier", 200, "Innhold åpnet, unikt per økt"},
		{"oslo", "?library=2120100", 403, "Du har ikke tilgang til Bergen verdensbibliotek (2120100)."},
		{"oslo", "?county=03", 403, "Du har ikke tilgang til Oslo."},
		{"oslo", "?national=1", 403, "Du har ikke tilgang til Hele landet"},
		{"oslo", "?library=2999999", 400, "Ukjent bibliotek"},
		{"oslo", "?library=abc", 400, "Ukjent bibliotek"},
		{"oslo", "?platform=bogus", 400, "Ukjent tjeneste &#34;bogus&#34;."},
		{"oslo", "?metric=Bogus_Metric", 400, "Ukjent type bruk"},
		{"oslo", "?from=2025-13", 400, "Ugyldig måned"},
		{"oslo", "?from=2025-03&to=2025-01", 400, "Perioden slutter før den begynner."},
		{"oslo", "?format=pdf", 400, "Ukjent format"},
		{"oslo", "?from=0001-01&to=9999-12", 200, "<th scope=\"row\">mars 2025</th>"},
		{"oslo", "?from=1990-01&to=1990-12", 200, "Det finnes ingen bruksdata for dette utvalget."},
		{"oslo", "?lang=de", 400, "Ukjent språk"},
		{"oslo", "?lang=en&platform=bogus", 400, "Unknown service &#34;bogus&#34;."},
		{"oslo", "?lang=nn&library=2120100", 403, "Du har ikkje tilgang til Bergen verdensbibliotek (2120100)."},
		{"fylke03", "?county=03&library=2030100", 200, "Oslo (hele fylket)"},
		{"fylke03", "?county=46", 403, "Du har ikke tilgang til Vestland."},
		{"fylke03", "?library=2120100", 403, "ikke tilgang"},
		{"fylke46", "", 200, "Vestland (hele fylket)"},
		{"admin", "", 200, "Hele landet"},
		{"oslo", "?by=platform", 200, `<th scope="col" class="num">Mediebasen</th>`},
		{"admin", "?by=platform&national=1&county=46", 400, "Velg ett bibliotek eller område for å se hver tjeneste for seg."},
		{"oslo", "?by=line", 400, "Ukjent valg av linjer"},
		{"admin", "?national=1&county=46&library=2030100&library=2120100", 200, "Bergen verdensbibliotek"},
	}
	cookies := map[string]*http.Cookie{}
	for _, tt := range tests {
		if cookies[tt.user] == nil {
			cookies[tt.user] = login(t, ts.URL, tt.user)
		}
		code, h, body := fetch(t, ts.URL, "/utforsk"+tt.query, cookies[tt.user])
		if code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.user, tt.query, code, tt.want)
		}
		if !strings.Contains(body, tt.says) {
			t.Errorf("%s %s: the page does not say %q", tt.user, tt.query, tt.says)
		}
		if code != 200 && (strings.Contains(body, "format=csv") ||
			strings.Contains(body, `<form class="explore"`) && !strings.Contains(body, `<option value="Total_Item_Requests" selected>`)) {
			t.Errorf("%s %s: a refused choice offers downloads, or no metric chosen in its form", tt.user, tt.query)
		}
		if code == 200 && !strings.Contains(tt.says, "ingen bruksdata") && (!strings.Contains(body, `<table id="explore-t">`) || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'")) {
			t.Errorf("%s %s: no table, or no script policy", tt.user, tt.query)
		}
		for _, bad := range []string{"<script>alert", "<img", "<b>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s %s: vendor text unescaped: %s", tt.user, tt.query, bad)
			}
		}
	}
	// A period of millennia shows the months with data only.
	_, _, body := fetch(t, ts.URL, "/utforsk?from=0001-01&to=9999-12", cookies["oslo"])
	if n := strings.Count(tableOf(body), `<tr><th scope="row">`); n != 6 {
		t.Errorf("from 0001 to 9999: %d rows, want the 5 months with data and their sum", n)
	}
	if code, _, _ := fetch(t, ts.URL, "/utforsk", &http.Cookie{Name: sessionCookie, Value: "none"}); code != http.StatusSeeOther {
		t.Errorf("no session: %d, want a redirect to the login", code)
	}
}

// TestExploreNumbers checks the table against the marts: a library's
// figure, a county's and the country's, and a month without data shown as
// none, never 0.
func TestExploreNumbers(t *testing.T) {
	ts := exploreFixture(t)
	m, _ := report.Catalog("nb")
	admin := login(t, ts.URL, "admin")
	_, _, body := fetch(t, ts.URL, "/utforsk?from=2024-11&to=2025-03&platform=medier&metric=Total_Item_Requests&library=2030100&county=46&national=1", admin)
	oslo := martSum(t, `SELECT sum(total) FROM mart_library_month WHERE library_id = '2030100' AND platform = 'medier'
		AND metric_type = 'Total_Item_Requests' AND month = DATE '2025-02-01'`)
	county := martSum(t, `SELECT sum(total) FROM mart_county_month_current WHERE county = '46' AND platform = 'medier'
		AND metric_type = 'Total_Item_Requests' AND month = DATE '2025-02-01'`)
	nation := martSum(t, `SELECT sum(total) FROM mart_national_month WHERE platform = 'medier'
		AND metric_type = 'Total_Item_Requests' AND month = DATE '2025-02-01'`)
	if oslo == 0 || county == 0 || nation <= oslo {
		t.Fatalf("fixture: oslo %v, county %v, nation %v", oslo, county, nation)
	}
	want := `<tr><th scope="row">feb. 2025</th><td class="num">` + m.FormatNumber(oslo) + `</td><td class="num">` +
		m.FormatNumber(county) + `</td><td class="num">` + m.FormatNumber(nation) + `</td></tr>`
	if !strings.Contains(body, want) {
		t.Errorf("February 2025 row: want %s in\n%s", want, tableOf(body))
	}
	// By platform, the one library's platforms are its lines.
	_, _, byPlatform := fetch(t, ts.URL, "/utforsk?from=2024-11&to=2025-03&platform=medier&platform=arkiv&metric=Total_Item_Requests&library=2030100&by=platform", admin)
	arkiv := martSum(t, `SELECT coalesce(sum(total), 0) FROM mart_library_month WHERE library_id = '2030100' AND platform = 'arkiv'
		AND metric_type = 'Total_Item_Requests' AND month = DATE '2025-02-01'`)
	// arkiv is R5 only and ends in January 2025: February has no data.
	if arkiv != 0 || !strings.Contains(byPlatform, `<tr><th scope="row">feb. 2025</th><td class="num">`+m.FormatNumber(oslo)+`</td><td class="num">ingen data</td></tr>`) {
		t.Errorf("by platform, February 2025 (arkiv %v, medier %v):\n%s", arkiv, oslo, tableOf(byPlatform))
	}
	// medier has no usage before 2025: those months have no data.
	none := `<tr><th scope="row">nov. 2024</th><td class="num">ingen data</td><td class="num">ingen data</td><td class="num">ingen data</td></tr>`
	if !strings.Contains(body, none) {
		t.Errorf("November 2024 row: want %s in\n%s", none, tableOf(body))
	}
	if strings.Contains(tableOf(body), `<td class="num">0</td>`) {
		t.Errorf("a month shows 0:\n%s", tableOf(body))
	}
}

func tableOf(body string) string {
	i, j := strings.Index(body, "<table"), strings.Index(body, "</table>")
	if i < 0 || j < i {
		return "(no table)"
	}
	return body[i:j]
}

// TestExploreURLRoundTrip: the page's form and share link give back the
// choice, so a shared link shows the same page.
func TestExploreURLRoundTrip(t *testing.T) {
	ts := exploreFixture(t)
	c := login(t, ts.URL, "fylke03")
	q := "/utforsk?lang=en&from=2024-12&to=2025-02&metric=Unique_Item_Requests&platform=medier&platform=arkiv&library=2030100&county=03"
	_, _, body := fetch(t, ts.URL, q, c)
	for _, want := range []string{`<option value="2024-12" selected>`, `<option value="2025-02" selected>`,
		`name="platform" value="medier" aria-describedby="platforms-hint" checked`, `name="platform" value="arkiv" aria-describedby="platforms-hint" checked`,
		`<option value="Unique_Item_Requests" selected>`, `name="library" value="2030100" checked`, `name="county" value="03" checked`,
		`<input type="hidden" name="lang" value="en">`, `<html lang="en">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	i := strings.Index(body, `<a href="/utforsk?`)
	share := body[strings.LastIndex(body, `<p><a href="`)+len(`<p><a href="`):]
	share = strings.ReplaceAll(share[:strings.Index(share, `"`)], "&amp;", "&")
	if i < 0 || !strings.HasPrefix(share, "/utforsk?") {
		t.Fatalf("no share link")
	}
	_, _, again := fetch(t, ts.URL, share, c)
	if tableOf(again) != tableOf(body) || tableOf(body) == "(no table)" {
		t.Errorf("the share link %s shows another table", share)
	}
	// The choice itself survives its query.
	u, _ := url.Parse(share)
	if got, want := u.Query(), (url.Values{"lang": {"en"}, "from": {"2024-12"}, "to": {"2025-02"}, "metric": {"Unique_Item_Requests"},
		"platform": {"arkiv", "medier"}, "library": {"2030100"}, "county": {"03"}}); got.Encode() != want.Encode() {
		t.Errorf("share link query %s, want %s", got.Encode(), want.Encode())
	}
}

func TestExploreDownloads(t *testing.T) {
	ts := exploreFixture(t)
	admin := login(t, ts.URL, "admin")
	// Oslo chosen twice over, itself and through county 03: its rows once.
	base := "/utforsk?from=2024-11&to=2025-03&metric=Total_Item_Requests&library=2030100&county=03"
	want := martSum(t, `SELECT sum(total) FROM mart_library_month WHERE library_id = '2030100' AND metric_type = 'Total_Item_Requests'`)
	code, h, body := fetch(t, ts.URL, base+"&format=csv", admin)
	if code != 200 || !strings.Contains(h.Get("Content-Disposition"), `attachment; filename="bibstat-total_item_requests-2024-11-2025-03.csv"`) {
		t.Fatalf("csv: %d %v", code, h)
	}
	rows := readCSV(t, body, ';')
	if strings.Join(rows[0], "|") != "Biblioteknummer|Bibliotek|Måned|Tjeneste|COUNTER-versjon|Type bruk|Egen bruk|Andel av felles bruk|Sum" {
		t.Errorf("csv header %v", rows[0])
	}
	if got := columnSum(t, rows, 8, ","); math.Abs(got-want) > 1e-6 {
		t.Errorf("csv sums to %v, want Oslo's %v", got, want)
	}
	for _, r := range rows[1:] {
		if r[0] != "2030100" || r[1] != "Oslo verdensbibliotek" || r[5] != "Visninger og nedlastinger" {
			t.Errorf("csv row %v", r)
		}
	}
	_, _, body = fetch(t, ts.URL, base+"&format=csv-machine", admin)
	rows = readCSV(t, body, ',')
	if strings.Join(rows[0], ",") != "Library_ID,Library_Name,Month,Platform,Release,Metric_Type,Count,Pooled,Total" || rows[1][5] != "Total_Item_Requests" {
		t.Errorf("machine csv %v", rows[:2])
	}
	if got := columnSum(t, rows, 8, "."); math.Abs(got-want) > 1e-6 {
		t.Errorf("machine csv sums to %v, want %v", got, want)
	}
	code, h, body = fetch(t, ts.URL, base+"&format=xlsx", admin)
	if code != 200 || h.Get("Content-Type") != contentTypes[".xlsx"] {
		t.Fatalf("xlsx: %d %s", code, h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("xlsx header not frozen: %+v %v", panes, err)
	}
	if tables, err := f.GetTables(sheet); err != nil || len(tables) != 1 {
		t.Errorf("xlsx has no filtered table: %v %v", tables, err)
	}
	if v, _ := f.GetCellValue(sheet, "C2", excelize.Options{RawCellValue: true}); v == "" || strings.Contains(v, "-") {
		t.Errorf("xlsx month C2 = %q, want a date serial", v)
	}
	// The country's download: every library once and the unattributed, as much as the national mart.
	_, _, body = fetch(t, ts.URL, "/utforsk?from=2024-11&to=2025-03&metric=Total_Item_Requests&national=1&county=03&library=2120100&format=csv-machine", admin)
	nation := martSum(t, `SELECT sum(total) FROM mart_national_month WHERE metric_type = 'Total_Item_Requests'`)
	if got := columnSum(t, readCSV(t, body, ','), 8, "."); math.Abs(got-nation) > 1e-6 {
		t.Errorf("national download sums to %v, the national mart to %v", got, nation)
	}
	// A library user downloads its own library only, and no one else's by asking.
	oslo := login(t, ts.URL, "oslo")
	if code, _, _ := fetch(t, ts.URL, "/utforsk?library=2120100&format=csv", oslo); code != http.StatusForbidden {
		t.Errorf("oslo downloading Bergen: %d, want 403", code)
	}
}

func readCSV(t *testing.T, body string, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	r.Comma = comma
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	return rows
}

func columnSum(t *testing.T, rows [][]string, col int, decimal string) float64 {
	t.Helper()
	var sum float64
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(strings.Replace(r[col], decimal, ".", 1), 64)
		if err != nil {
			t.Fatalf("cell %q: %v", r[col], err)
		}
		sum += v
	}
	return sum
}

func TestOwnAgreements(t *testing.T) {
	ts := exploreFixture(t)
	tests := []struct {
		user      string
		want, not []string
	}{
		{"oslo", []string{"Nyheter 2025 &lt;b&gt;", "Egen andel", "Oslo verdensbibliotek", "30\u00a0000,00\u00a0kr", "15\u00a0000,00\u00a0kr"},
			[]string{"Medier 2025", "Vestland", "/avtale/"}},
		{"fylke03", []string{"Nyheter 2025", "Oslo verdensbibliotek"}, []string{"Medier 2025", "Vestland"}},
		{"fylke46", []string{"Nyheter 2025", "Medier 2025", "Vestland"}, []string{"Oslo verdensbibliotek"}},
		{"admin", []string{"Nyheter 2025", "Medier 2025", `href="/avtale/nyheter-2025.html"`}, []string{"Egen andel"}},
	}
	for _, tt := range tests {
		code, _, body := fetch(t, ts.URL, "/avtaler", login(t, ts.URL, tt.user))
		if code != 200 {
			t.Fatalf("%s /avtaler: %d", tt.user, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: /avtaler lacks %q", tt.user, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: /avtaler shows %q", tt.user, n)
			}
		}
		if strings.Contains(body, "<img") || strings.Contains(body, "<b>") {
			t.Errorf("%s: vendor text unescaped", tt.user)
		}
	}
}

func TestChoiceQueryRoundTrip(t *testing.T) {
	opts := exploreOptions{Months: bibstat.MonthsBetween(bibstat.Month{Year: 2024, Mon: 1}, bibstat.Month{Year: 2025, Mon: 6}),
		Platforms: []string{"a", "b"}, Metrics: []string{"Total_Item_Requests", "Searches_Platform"},
		Libraries: []LibraryInfo{{ID: "2030100", County: "03"}}, Counties: []area{{ID: "03"}},
		register: []LibraryInfo{{ID: "2030100", County: "03"}, {ID: "2120100", County: "46"}}}
	u := User{Name: "f", Role: RoleCounty, County: "03"}
	for _, q := range []string{"", "from=2024-03&to=2024-04&platform=b&platform=a&metric=Searches_Platform&library=2030100&county=03&format=xlsx"} {
		v, _ := url.ParseQuery(q)
		c, err := parseChoice(v, u, opts, exploreCatalog["nb"], "nb")
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		again, err := parseChoice(c.query(), u, opts, exploreCatalog["nb"], "nb")
		if err != nil || again.query().Encode() != c.query().Encode() {
			t.Errorf("%q: %v, %s after %s", q, err, again.query().Encode(), c.query().Encode())
		}
	}
}

// TestClassifySitePages: the pages the explorer links to and the site's
// newer downloads are served, to whom they belong.
func TestClassifySitePages(t *testing.T) {
	for path, want := range map[string]Resource{
		"/ordliste.html":                      {Kind: KindAsset, Path: "ordliste.html"},
		"/tilgjengelighet.html":               {Kind: KindAsset, Path: "tilgjengelighet.html"},
		"/bibliotek/2030100-bruk-maskin.csv":  {Kind: KindLibrary, ID: "2030100", Path: "bibliotek/2030100-bruk-maskin.csv"},
		"/fylke/fylke-03-bruk-maskin.csv":     {Kind: KindCounty, ID: "03", Path: "fylke/fylke-03-bruk-maskin.csv"},
		"/nasjonalt-bruk-maskin.csv":          {Kind: KindGlobal, Path: "nasjonalt-bruk-maskin.csv"},
		"/avtale/avis-2025-tall-maskin.csv":   {Kind: KindGlobal, Path: "avtale/avis-2025-tall-maskin.csv"},
		"/avtale/avis-2025-tall.xlsx":         {Kind: KindGlobal, Path: "avtale/avis-2025-tall.xlsx"},
		"/bibliotek/2030100-bruk-maskin.xlsx": {},
		"/ordliste.html/../index.html":        {},
	} {
		if got := Classify(path, ""); got != want {
			t.Errorf("Classify(%s) = %+v, want %+v", path, got, want)
		}
	}
}
