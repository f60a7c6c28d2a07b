package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

const (
	mappingsDir = "../../testdata/mappings"
	vendorDir   = "../../testdata/vendor-files"
)

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestIngestCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"ingest", "--archive", "x"}, "no FILE"},
		{"no vendor", []string{"ingest", "--archive", "x", "a.csv"}, "--vendor is required"},
		{"no archive", []string{"ingest", "--vendor", "v", "a.csv"}, "--archive DIR is required"},
		{"inbox and files", []string{"ingest", "--inbox", "--archive", "x", "a.csv"}, "not both"},
		{"bad vendor", []string{"ingest", "--archive", "x", "--vendor", "../v", "a.csv"}, "--vendor"},
		{"bad library", []string{"ingest", "--archive", "x", "--vendor", "v", "--library", "12", "a.csv"}, "--library"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestIngestCommandDryRun(t *testing.T) {
	archive := t.TempDir()
	stdout, stderr, code := runCmd(t, "ingest", filepath.Join(vendorDir, "leksikon-2025.tsv"), "--dry-run",
		"--vendor", "leksikon", "--mappings", mappingsDir, "--archive", archive)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"would be loaded", "rows: 70 in 36 units", "2030100  Total_Item_Requests", "45 597"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Errorf("a dry run wrote %d entries", len(entries))
	}
}

// TestIngestCommandLoadsIntoWarehouse uploads every fixture, uploads one
// again, and checks that the warehouse counts each once.
func TestIngestCommandLoadsIntoWarehouse(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a DuckDB warehouse")
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	for _, f := range []struct{ vendor, file string }{
		{"avisleser", "avisleser-2025q1.csv"}, {"filmstrom", "filmstrom-2025q1.xlsx"},
		{"leksikon", "leksikon-2025.tsv"}, {"leksikon", "leksikon-2025.tsv"},
	} {
		stdout, stderr, code := runCmd(t, "ingest", "--vendor", f.vendor, "--mappings", mappingsDir,
			"--archive", archive, "--by", "kari", filepath.Join(vendorDir, f.file))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s %s", f.file, code, stdout, stderr)
		}
	}
	_, _, code := runCmd(t, "ingest", "--vendor", "avisleser", "--mappings", mappingsDir,
		"--archive", archive, filepath.Join(vendorDir, "avisleser-feil.csv"))
	if code != 1 {
		t.Errorf("a rejected file: exit %d, want 1", code)
	}

	ctx := context.Background()
	st, err := store.NewLocal(archive)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := transform.Open(ctx, filepath.Join(dir, "w.duckdb"), transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("warehouse unavailable (another package mid-edit?): %v", err)
	}
	defer wh.Close()
	if _, err := wh.Load(ctx, st); err != nil {
		t.Fatalf("load: %v", err)
	}
	var total, leksikonOslo int64
	if err := wh.DB.QueryRowContext(ctx, `SELECT sum(count) FROM facts WHERE release = 'vendor'`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	// 89 151 (avisleser) + 2 719 (filmstrøm) + 82 863 (leksikon, once though uploaded twice)
	if total != 89151+2719+82863 {
		t.Errorf("vendor usage in the warehouse: %d", total)
	}
	if err := wh.DB.QueryRowContext(ctx, `SELECT sum(count) FROM facts WHERE library_id = '2030100' AND platform = 'Leksikon'
		AND metric_type = 'Total_Item_Requests'`).Scan(&leksikonOslo); err != nil {
		t.Fatal(err)
	}
	if leksikonOslo != 45597 {
		t.Errorf("Oslo's Leksikon requests: %d, want 45 597", leksikonOslo)
	}
}

// TestIngestCommandDryRunShowsUsageBecomingZero: a year of usage loaded,
// then the dry run of a file that says the year had none lists each
// month's old → new total and warns before anything changes; an
// exception-only file is rejected, replacing nothing.
func TestIngestCommandDryRunShowsUsageBecomingZero(t *testing.T) {
	archive := t.TempDir()
	up := "../../testdata/upload"
	if _, stderr, code := runCmd(t, "ingest", "--vendor", "avis", "--archive", archive, "--by", "kari", filepath.Join(up, "pr_2025.json")); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runCmd(t, "ingest", "--dry-run", "--vendor", "avis", "--archive", archive, filepath.Join(up, "pr_2025_empty.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "would add 0 units, restate 12 (12 of them from usage to zero)") ||
		!strings.Contains(stdout, "restate 2030100 2025-06 PR: 60 → 0  WARNING: usage becomes zero") {
		t.Errorf("the dry run does not show the year becoming zero:\n%s", stdout)
	}
	stdout, _, code = runCmd(t, "ingest", "--dry-run", "--vendor", "avis", "--archive", archive, filepath.Join(up, "queued_1011.json"))
	if code != 1 || !strings.Contains(stdout, "would be rejected") || !strings.Contains(stdout, "1011") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}
