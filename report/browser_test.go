package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/transform"
)

// Vendor text is untrusted: these names must show as text everywhere.
var hostile = []string{
	`</script><script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
}

// hostileAgreement names an agreement with vendor text too.
const hostileAgreement = `agreements:
  - id: avis-2025
    name: "Avis 2025 </script><script>alert(1)</script>"
    vendor: "\"><img src=x onerror=alert(1)>"
    platforms: [avisarkiv]
    data_type: content
    use_metrics: [Total_Item_Requests]
    period: {from: 2025-01, to: 2025-12}
    price_nok: 120000
    vat_included: true
    vat_rate: 0
    allocation: {model: population}
    participants:
      - library: "2030100"
      - county: "55"
  - id: avis-2024
    name: "Avis 2024"
    vendor: "Avisleverandøren"
    platforms: [avisarkiv]
    data_type: content
    use_metrics: [Total_Item_Requests]
    period: {from: 2024-01, to: 2024-12}
    price_nok: 100000
    vat_included: true
    vat_rate: 0
    allocation: {model: flat}
    participants:
      - library: "2030100"
`

// buildHostileSite writes a site whose platform, title, library and
// agreement names try to break out of every context they are written into.
func buildHostileSite(t *testing.T, lang Lang) string {
	t.Helper()
	site := newHostileSite(t, lang)
	if _, err := site.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	return site.Out
}

// newHostileSite is buildHostileSite's site, not yet built; its warehouse
// closes with the test.
func newHostileSite(t *testing.T, lang Lang) *Site {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	wh, err := transform.Open(ctx, filepath.Join(dir, "w.duckdb"), transform.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	libs := []transform.Library{
		{ID: "2030100", Name: "Oslo " + hostile[1], Municipality: "0301", Type: "FBI"},
		{ID: "2190200", Name: "Tromsø demobibliotek", Municipality: "5501", Type: "FBI"},
	}
	if err := wh.PutLibraries(ctx, libs); err != nil {
		t.Fatal(err)
	}
	for _, lib := range libs {
		for i, platform := range append([]string{"avisarkiv"}, hostile...) {
			for year := 2024; year <= 2025; year++ {
				for m := 1; m <= 12; m++ {
					month := bibstat.Month{Year: year, Mon: time.Month(m)}.First()
					_, err := wh.DB.ExecContext(ctx, `INSERT INTO facts_loose (unit_key, library_id, release, report_id, platform, title,
						metric_type, month, count, institution_id, customer_id)
						VALUES (?, ?, '5.1', 'TR', ?, ?, 'Total_Item_Requests', ?, ?, '', '')`,
						fmt.Sprintf("u/%s/%d/%d/%d/", lib.ID, i, year, m), string(lib.ID), platform, hostile[i%2], month, 100*(i+1)+m+year-2024)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := wh.DB.ExecContext(ctx, `INSERT OR IGNORE INTO dirty_months VALUES (?)`, month); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if err := insertLoadedUnits(ctx, wh.DB); err != nil {
		t.Fatal(err)
	}
	if err := wh.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := addComparison(ctx, wh.DB); err != nil { // comparison_test.go
		t.Fatal(err)
	}
	aw := &agreements.Warehouse{DB: wh.DB}
	known, err := aw.Known(ctx)
	if err != nil {
		t.Fatal(err)
	}
	known.Platforms = map[string]bool{"avisarkiv": true} // known from harvests, which this warehouse skipped
	agrs, err := agreements.Parse("hostile.yaml", strings.NewReader(hostileAgreement), known)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aw.Import(ctx, agrs, "hostile.yaml", time.Now()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "site")
	site := &Site{DB: wh.DB, Out: out, Lang: lang, Platforms: map[string]string{"avisarkiv": "Avisarkivet"},
		DataTime: func() time.Time { return time.Date(2026, 1, 5, 6, 30, 0, 0, time.UTC) }}
	for _, lib := range libs {
		for m := range 25 {
			month := bibstat.Month{Year: 2024, Mon: time.January}.Add(m)
			st := bibstat.StateOK
			switch {
			case month == bibstat.Month{Year: 2026, Mon: time.January}:
				st = bibstat.StateNotReady
			case month == bibstat.Month{Year: 2025, Mon: time.December} && lib.ID == "2190200":
				st = bibstat.StateCredentialsBroken
			}
			site.Harvests = append(site.Harvests, Harvest{Platform: "avisarkiv", Library: string(lib.ID), Month: month, State: st,
				At: time.Date(2026, 1, 5, 2, 14, 0, 0, time.UTC)})
		}
	}
	return site
}

// insertLoadedUnits records a loaded unit for every unit the facts hold,
// as a load would: the marts count only usage whose source they know. The
// columns are read from the table, so that the fixture follows the schema.
func insertLoadedUnits(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_name = 'loaded_units' ORDER BY ordinal_position`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return err
		}
		v, ok := map[string]string{"unit_key": "unit_key", "library_id": "any_value(library_id)", "platform": "any_value(platform)",
			"report_id": "any_value(report_id)", "month": "any_value(month)", "state": "'ok'", "rows": "count(*)",
			"release": "any_value(release)", "source": "'sushi'"}[name]
		if !ok {
			v = map[string]string{"VARCHAR": "''", "BIGINT": "0", "DATE": "any_value(month)", "TIMESTAMP": "TIMESTAMP '2026-01-05 02:14:00'"}[typ]
		}
		if v == "" {
			return fmt.Errorf("loaded_units.%s: a column of type %s the fixture cannot fill", name, typ)
		}
		cols = append(cols, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO loaded_units SELECT `+strings.Join(cols, ", ")+` FROM facts GROUP BY unit_key`)
	return err
}

// pageTypes are one page of each kind the site has.
var pageTypes = []struct {
	name, path string
	charts     bool // the page draws charts
}{
	{"index", "index.html", false},
	{"national", "nasjonalt.html", true},
	{"county", "fylke/55.html", true},
	{"county-empty", "fylke/11.html", false},
	{"library", "bibliotek/2030100.html", true},
	{"agreement", "avtale/avis-2025.html", true},
	{"comparison", "sammenligning/avisarkiv.html", true},
	{"comparison-library", "sammenligning/avisarkiv/2190200.html", true},
	{"glossary", "ordliste.html", false},
	{"accessibility", "tilgjengelighet.html", false},
}

func TestPagesEscapeVendorText(t *testing.T) {
	site := buildHostileSite(t, "nb")
	for _, pt := range pageTypes {
		name := pt.path
		b, err := os.ReadFile(filepath.Join(site, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hostile {
			if strings.Contains(string(b), h) {
				t.Errorf("%s contains vendor text unescaped: %s", name, h)
			}
		}
		if strings.Contains(string(b), "<img") {
			t.Errorf("%s contains an img element", name)
		}
	}
}

// chromium finds Debian's browser; the test is skipped without it unless
// BIBSTAT_REQUIRE_BROWSER=1 (as in CI), when its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BIBSTAT_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH; install Debian's chromium to run the browser tests")
	return ""
}

// TestPagesInBrowser opens every page type in each language in headless
// Chromium with the network off, at 1400 px and at a 390 px phone width. It
// fails on any console error, any request that leaves the site, any dialog
// (a script that vendor text smuggled in), a chart that was not drawn, a
// page wider than the screen (tables scroll inside themselves), and any
// WCAG 2.1 A/AA violation axe-core finds; it writes a screenshot of each
// (to $BIBSTAT_SCREENSHOTS when set).
func TestPagesInBrowser(t *testing.T) {
	exe := chromium(t)
	axe := axeSource(t)
	shots := os.Getenv("BIBSTAT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("allow-file-access-from-files", true),
		// Network off: every host resolves to nothing and any proxy use fails.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	for _, lang := range []Lang{"nb", "nn", "en"} {
		t.Run(string(lang), func(t *testing.T) {
			site := buildHostileSite(t, lang)
			for _, p := range pageTypes {
				for _, width := range []int64{1400, 390} {
					t.Run(fmt.Sprintf("%s/%d", p.name, width), func(t *testing.T) {
						name := filepath.Join(shots, fmt.Sprintf("%s-%s-%d.png", lang, p.name, width))
						for _, pr := range openPage(t, alloc, "file://"+filepath.Join(site, p.path), width, p.charts, axe, name) {
							t.Error(pr)
						}
					})
				}
			}
		})
	}
}

// openPage loads url at the given width and returns what went wrong.
func openPage(t *testing.T, alloc context.Context, url string, width int64, charts bool, axe, shot string) []string {
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var text []string
				for _, a := range ev.Args {
					text = append(text, string(a.Value)+a.Description)
				}
				report("console %s: %s", ev.Type, strings.Join(text, " "))
			}
		case *runtime.EventExceptionThrown:
			report("exception: %s", ev.ExceptionDetails.Text)
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				report("external request: %s", u)
			}
		case *cdpage.EventJavascriptDialogOpening:
			report("a script ran: dialog %q", ev.Message)
			go chromedp.Call(ctx, cdpage.HandleJavaScriptDialog, cdpage.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatalf("enable devtools domain: %v", err)
		}
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(width, 900), chromedp.Navigate(url)}
	if charts {
		steps = append(steps, chromedp.WaitVisible("[data-drawn=true] canvas"))
		if width > 1000 {
			// Hover the chart so its tooltip renders the series names.
			steps = append(steps, chromedp.MouseClickXY(600, 420), chromedp.Sleep(300*time.Millisecond))
		}
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow > 0 {
		report("the page is %d px wider than the %d px screen", overflow, width)
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", url, err)
	}
	if err := os.WriteFile(shot, img, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range axeViolations(t, ctx, axe) {
		report("axe: %s", v)
	}
	// A sortable table sorts on its buttons, and says how it is sorted.
	const sortCheck = `(() => {
		const b = document.querySelector("table.sortable button.sort");
		if (!b) { return "none"; }
		b.click();
		return b.parentElement.getAttribute("aria-sort");
	})()`
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](sortCheck)); err != nil || (got != "none" && got != "ascending") {
		report("sorting a table: aria-sort %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return problems
}
