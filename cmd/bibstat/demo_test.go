package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

func testEnv(t *testing.T) (*env, *bytes.Buffer) {
	var out bytes.Buffer
	return &env{stdout: &out, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out
}

// TestDemoLoadsWhatTheSimulatorGenerated runs the whole demo pipeline and
// checks the warehouse against totals computed here from the simulator's
// seed, not from anything the pipeline wrote.
func TestDemoLoadsWhatTheSimulatorGenerated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, _ := testEnv(t)

	world, err := sushisim.Demo()
	if err != nil {
		t.Fatal(err)
	}
	want := map[libMetric]int64{}
	for _, p := range world.Platforms {
		for _, l := range world.Libraries {
			for _, m := range bibstat.MonthsBetween(world.First, world.Last) {
				for metric, n := range world.Usage(p.ID, l.ID, m) {
					want[libMetric{string(l.ID), metric}] += n
				}
			}
		}
	}
	if len(want) != len(world.Libraries)*len(sushisim.PRMetrics) {
		t.Fatalf("expected totals cover %d library×metric pairs", len(want))
	}

	first, err := buildDemo(ctx, e, demoOptions{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	units := len(world.Platforms) * len(world.Libraries) * 12
	if first.Harvest.Fetched != units || first.Harvest.States[bibstat.StateOK] != units {
		t.Fatalf("first run harvested %+v, want %d units ok", first.Harvest, units)
	}
	// index, nation, glossary, accessibility statement, 15 counties, one
	// page per library and per agreement
	if want := 4 + 15 + len(world.Libraries) + first.Agreements; first.Pages != want || first.Agreements != 3 {
		t.Errorf("pages = %d with %d agreements, want %d pages and 3 agreements", first.Pages, first.Agreements, want)
	}
	got := warehouseTotals(t, filepath.Join(dir, "warehouse.duckdb"))
	for k, n := range want {
		if got[k] != n {
			t.Errorf("library %s %s: warehouse has %d, simulator generated %d", k.lib, k.metric, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("warehouse has %d library×metric totals, want %d", len(got), len(want))
	}

	second, err := buildDemo(ctx, e, demoOptions{Out: dir})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.Harvest.Fetched != 0 || second.Load.Loaded != 0 || second.FactRows != first.FactRows {
		t.Errorf("second run fetched %d, loaded %d, has %d rows; want 0, 0, %d",
			second.Harvest.Fetched, second.Load.Loaded, second.FactRows, first.FactRows)
	}

	checkArchiveHasNoSecrets(t, dir, &world)
	checkSiteIsOffline(t, filepath.Join(dir, "site"), &world)
}

// libMetric keys usage totals by library and metric.
type libMetric struct{ lib, metric string }

// warehouseTotals reads the usage total per library and metric from the warehouse file.
func warehouseTotals(t *testing.T, path string) map[libMetric]int64 {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT library_id, metric_type, sum(count) FROM facts GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[libMetric]int64{}
	for rows.Next() {
		var k libMetric
		var n int64
		if err := rows.Scan(&k.lib, &k.metric, &n); err != nil {
			t.Fatal(err)
		}
		got[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func checkArchiveHasNoSecrets(t *testing.T, dir string, world *sushisim.Config) {
	t.Helper()
	var secrets []string
	for _, p := range world.Platforms {
		for _, l := range world.Libraries {
			secrets = append(secrets, world.APIKey(p.ID, l.ID))
		}
	}
	sidecars := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".duckdb") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, bibstat.SidecarSuffix) {
			sidecars++
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains an api_key", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sidecars == 0 {
		t.Error("no sidecars in the archive")
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`)

func checkSiteIsOffline(t *testing.T, site string, world *sushisim.Config) {
	t.Helper()
	for _, asset := range []string{"assets/echarts.min.js", "assets/echarts-LICENSE.txt", "assets/bibstat.js"} {
		if _, err := os.Stat(filepath.Join(site, asset)); err != nil {
			t.Errorf("asset %s: %v", asset, err)
		}
	}
	index, err := os.ReadFile(filepath.Join(site, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range world.Libraries {
		if !bytes.Contains(index, []byte(l.Name)) {
			t.Errorf("index.html does not list %s", l.Name)
		}
		page, err := os.ReadFile(filepath.Join(site, "bibliotek", string(l.ID)+".html"))
		if err != nil {
			t.Fatal(err)
		}
		if externalRef.Match(page) {
			t.Errorf("page of %s refers to an external host", l.ID)
		}
		if !bytes.Contains(page, []byte(`data-chart="trend-data"`)) || !bytes.Contains(page, []byte(`<table id="trend-t">`)) {
			t.Errorf("page of %s lacks its chart or its table", l.ID)
		}
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--help"}, 0, "demo"},
		{[]string{"demo", "--help"}, 0, "--out DIR"},
		{[]string{"no-such-command"}, 2, ""},
		{[]string{"demo", "--no-such-flag"}, 2, ""},
		{[]string{}, 2, "Commands:"},
		{[]string{"--log-level", "debug", "--help"}, 0, "--log-level"},
		{[]string{"--log-level=loud", "inspect"}, 2, ""},
		{[]string{"--log-level"}, 2, ""},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, &out, &errOut)
		if got := exitCode(err, &errOut); got != c.code {
			t.Errorf("bibstat %v: exit %d, want %d (err %v)", c.args, got, c.code, err)
		}
		if !strings.Contains(out.String(), c.contains) {
			t.Errorf("bibstat %v: output lacks %q:\n%s", c.args, c.contains, out.String())
		}
		if n := strings.Count(out.String(), "Usage:"); n > 1 || strings.Contains(out.String(), "`") {
			t.Errorf("bibstat %v: usage printed %d times or with backticks:\n%s", c.args, n, out.String())
		}
	}
}

func TestLogLevel(t *testing.T) {
	for _, c := range []struct {
		name       string
		unattended bool
		want       slog.Level
	}{
		{"", false, slog.LevelWarn},
		{"", true, slog.LevelInfo},
		{"debug", false, slog.LevelDebug},
		{"ERROR", true, slog.LevelError},
	} {
		if got, err := logLevel(c.name, c.unattended); err != nil || got != c.want {
			t.Errorf("logLevel(%q, %t) = %v, %v; want %v", c.name, c.unattended, got, err, c.want)
		}
	}
	var out, errb bytes.Buffer
	t.Setenv("BIBSTAT_LOG_LEVEL", "verbose")
	if err := run(context.Background(), []string{"inspect", "x"}, &out, &errb); exitCode(err, &errb) != 2 {
		t.Errorf("BIBSTAT_LOG_LEVEL=verbose: %v, want a usage error", err)
	}
}
