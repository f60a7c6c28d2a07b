package report

import (
	"context"
	gobuild "go/build"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's script, installed by .ci/install-axe-core in
// $BIBSTAT_AXE_DIR or beside GOPATH. Without it the test is skipped, unless
// BIBSTAT_REQUIRE_BROWSER=1 (make test), when its absence is a failure.
func axeSource(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BIBSTAT_AXE_DIR")
	if gopath := filepath.SplitList(gobuild.Default.GOPATH); dir == "" && len(gopath) > 0 {
		dir = filepath.Join(gopath[0], "..", "bibstat-node")
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("BIBSTAT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("no axe-core (run .ci/install-axe-core): %v", err)
		}
		t.Skipf("no axe-core (run .ci/install-axe-core): %v", err)
	}
	return string(b)
}

// axeViolations runs axe-core's WCAG 2.1 A and AA rules on the open page
// and returns each violation with the elements it was found on.
func axeViolations(t *testing.T, ctx context.Context, axe string) []string {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;true")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " +
			v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	return out
}
