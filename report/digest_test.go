package report

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRebuildRemakesChangedDownloads builds a site, then changes one input
// of its downloads at a time and builds again on the same record: each
// time every file is what a build into an empty directory makes, so a
// download whose input changed was made again, and one that was skipped
// was as it would have been.
func TestRebuildRemakesChangedDownloads(t *testing.T) {
	ctx := context.Background()
	site := newHostileSite(t, "nb")
	if _, err := site.Build(ctx); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(site.Out, "bibliotek", "2030100-bruk.csv")
	changes := []struct {
		name   string
		change func(t *testing.T)
		file   string // a download the change must alter
	}{
		{"one count of one library", func(t *testing.T) {
			if _, err := site.DB.ExecContext(ctx, `UPDATE mart_library_month SET count = count + 7, total = total + 7
				WHERE library_id = '2030100' AND month = (SELECT max(month) FROM mart_library_month)`); err != nil {
				t.Fatal(err)
			}
		}, "nasjonalt-bruk.csv"},
		{"a platform's name", func(t *testing.T) { site.Platforms = map[string]string{"avisarkiv": "Avisarkivet AS"} }, lib},
		{"the data's time", func(t *testing.T) {
			if _, err := site.DB.ExecContext(ctx, `UPDATE loaded_units SET harvested_at = TIMESTAMP '2026-03-05 02:14:00'`); err != nil {
				t.Fatal(err)
			}
			site.DataTime = nil
		}, strings.TrimSuffix(lib, ".csv") + ".tsv"},
		{"a download truncated on disk", func(t *testing.T) {
			if err := os.Truncate(lib, 10); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"a download removed", func(t *testing.T) {
			if err := os.Remove(lib); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	for _, c := range changes {
		var before []byte
		if c.file != "" {
			before = readFile(t, filepath.Join(site.Out, strings.TrimPrefix(c.file, site.Out)))
		}
		c.change(t)
		if _, err := site.Build(ctx); err != nil {
			t.Fatal(err)
		}
		if c.file != "" && bytes.Equal(before, readFile(t, filepath.Join(site.Out, strings.TrimPrefix(c.file, site.Out)))) {
			t.Errorf("%s: %s did not change", c.name, c.file)
		}
		fresh := &Site{DB: site.DB, Out: filepath.Join(t.TempDir(), "site"), Lang: site.Lang, DataTime: site.DataTime,
			Platforms: site.Platforms, Harvests: site.Harvests}
		if _, err := fresh.Build(ctx); err != nil {
			t.Fatal(err)
		}
		sameTree(t, c.name, fresh.Out, site.Out)
	}
	// Nothing changed: nothing is written, and the record skips the downloads.
	again, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Written != 0 {
		t.Errorf("an unchanged rebuild wrote %d files", again.Written)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameTree reports every file that differs between two sites.
func sameTree(t *testing.T, name, want, got string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		g, err := os.ReadFile(filepath.Join(got, rel))
		if w := readFile(t, p); err != nil || !bytes.Equal(w, g) {
			t.Errorf("%s: %s differs from a fresh build's (%v)", name, rel, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s: no files in %s", name, want)
	}
}
