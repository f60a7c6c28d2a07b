package server

import (
	"context"
	"fmt"
	gobuild "go/build"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bibliotek24/bibstat/report"
)

// TestExploreInBrowser opens the explorer and the agreements page in each
// language in headless Chromium, at 1400 px and at a 390 px phone width,
// served by the portal over the world with the real report site beside it
// (its assets draw the chart). It fails on a console error, a request that
// leaves the portal, a chart not drawn, a page wider than the screen, and
// any WCAG 2.1 A/AA violation axe-core finds; it keeps a screenshot of each
// (in $BIBSTAT_SCREENSHOTS when set). Skipped without chromium or axe-core
// unless BIBSTAT_REQUIRE_BROWSER=1.
func TestExploreInBrowser(t *testing.T) {
	exe, axe := browserTools(t)
	shots := os.Getenv("BIBSTAT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := worldWithAgreements(); err != nil {
		t.Fatal(err)
	}
	if err := worldWithComparison(); err != nil { // explore_compare_test.go
		t.Fatal(err)
	}
	wh, _ := worldWarehouse()
	cfg, _ := portalConfig(t, wh.DB, nil)
	cfg.SiteDir = filepath.Join(t.TempDir(), "site")
	cfg.Platforms = map[string]string{"nyheter": hostileName, "medier": "Mediebasen"}
	if _, err := (&report.Site{DB: wh.DB, Out: cfg.SiteDir, Platforms: cfg.Platforms}).Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), // nothing but the portal
		chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	pages := []struct{ name, user, path string }{
		{"explore-admin", "admin", "/utforsk?national=1&county=46&library=2030100&from=2024-11"},
		{"explore-library", "oslo", "/utforsk?platform=medier&platform=nyheter"},
		{"explore-refused", "oslo", "/utforsk?platform=bogus"},
		{"explore-compare-admin", "admin", "/utforsk/sammenligning?national=1&county=46&library=2030100"},
		{"explore-compare-library", "oslo", "/utforsk/sammenligning"},
		{"agreements-library", "oslo", "/avtaler"},
		{"agreements-county", "fylke03", "/avtaler"},
	}
	for _, lang := range []string{"nb", "nn", "en"} {
		for _, p := range pages {
			for _, width := range []int64{1400, 390} {
				t.Run(fmt.Sprintf("%s/%s/%d", lang, p.name, width), func(t *testing.T) {
					u, _ := url.Parse(ts.URL + p.path)
					q := u.Query()
					q.Set("lang", lang)
					u.RawQuery = q.Encode()
					c := loginTLS(t, ts, p.user)
					shot := filepath.Join(shots, fmt.Sprintf("portal-%s-%s-%d.png", lang, p.name, width))
					charts := strings.HasPrefix(p.name, "explore-") && p.name != "explore-refused"
					for _, pr := range openPortalPage(t, alloc, ts.URL, u.String(), c, width, charts, axe, shot) {
						t.Error(pr)
					}
				})
			}
		}
	}
}

// browserTools finds chromium and axe-core's script (.ci/install-axe-core).
func browserTools(t *testing.T) (string, string) {
	t.Helper()
	require := os.Getenv("BIBSTAT_REQUIRE_BROWSER") == "1"
	skip := func(format string, args ...any) {
		if require {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		skip("no chromium on PATH (apt-get install chromium): %v", err)
	}
	dir := os.Getenv("BIBSTAT_AXE_DIR")
	if gopath := filepath.SplitList(gobuild.Default.GOPATH); dir == "" && len(gopath) > 0 {
		dir = filepath.Join(gopath[0], "..", "bibstat-node")
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		skip("no axe-core (run .ci/install-axe-core): %v", err)
	}
	return exe, string(b)
}

// loginTLS logs user in through the TLS test server's own client.
func loginTLS(t *testing.T, ts *httptest.Server, user string) string {
	t.Helper()
	client := ts.Client()
	client.CheckRedirect = noRedirect.CheckRedirect
	resp, err := client.PostForm(ts.URL+"/login", url.Values{"user": {user}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatalf("login %s: %d", user, resp.StatusCode)
	return ""
}

// openPortalPage opens page with the session cookie and returns what went wrong.
func openPortalPage(t *testing.T, alloc context.Context, base, page, session string, width int64, charts bool, axe, shot string) []string {
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				report("console %s", ev.Type)
			}
		case *runtime.EventExceptionThrown:
			report("exception: %s", ev.ExceptionDetails.Text)
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, base) && !strings.HasPrefix(u, "data:") {
				report("external request: %s", u)
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	yes := true
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: sessionCookie, Value: session, URL: base,
		Path: "/", Secure: &yes, HTTPOnly: &yes}); err != nil {
		t.Fatal(err)
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(width, 900), chromedp.Navigate(page)}
	if charts {
		steps = append(steps, chromedp.WaitVisible("[data-drawn=true] canvas"))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow > 0 {
		report("the page is %d px wider than the %d px screen", overflow, width)
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, img, 0o644); err != nil {
		t.Fatal(err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " +
			v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;true")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	for _, v := range violations {
		report("axe: %s", v)
	}
	mu.Lock()
	defer mu.Unlock()
	return problems
}
