package report

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

// TestRebuildWritesNothingUnchanged builds a site twice from the same
// warehouse: the second build writes no file and leaves every
// modification time as it was. A third build at another minute changes
// every page's stamp, so the count is seen to move.
func TestRebuildWritesNothingUnchanged(t *testing.T) {
	ctx := context.Background()
	site := newHostileSite(t, "nb")
	first, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Written == 0 || first.Pages == 0 {
		t.Fatalf("first build wrote %d files for %d pages", first.Written, first.Pages)
	}
	before := modTimes(t, site.Out)
	second, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Written != 0 || second.Pages != first.Pages {
		t.Errorf("second build wrote %d files for %d pages, want 0 for %d", second.Written, second.Pages, first.Pages)
	}
	after := modTimes(t, site.Out)
	for p, mt := range before {
		if !after[p].Equal(mt) {
			t.Errorf("%s rewritten", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d files after the second build, %d before", len(after), len(before))
	}

	site.DataTime = func() time.Time { return time.Date(2026, 1, 5, 7, 31, 0, 0, time.UTC) }
	third, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if third.Written < third.Pages {
		t.Errorf("a build at another time wrote %d files for %d stamped pages", third.Written, third.Pages)
	}
}

// TestRebuildStampsTheDataTime builds a site as the command does, with no
// stamp given: pages and COUNTER files carry when the warehouse's data was
// last updated, not when they were built, so a rebuild an hour later from
// the same warehouse writes nothing, and a newer load changes the stamp.
func TestRebuildStampsTheDataTime(t *testing.T) {
	ctx := context.Background()
	site := newHostileSite(t, "nb")
	site.DataTime = nil
	if _, err := site.Build(ctx); err != nil {
		t.Fatal(err)
	}
	loaded := time.Date(2026, 1, 5, 2, 14, 0, 0, time.UTC) // insertLoadedUnits' harvested_at
	page, err := os.ReadFile(filepath.Join(site.Out, "bibliotek", "2030100.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := catalog["nb"].Generated + " " + catalog["nb"].formatTime(loaded); !strings.Contains(string(page), want) {
		t.Errorf("page lacks %q", want)
	}
	tsv, err := os.ReadFile(filepath.Join(site.Out, "bibliotek", "2030100-bruk.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Created\t" + loaded.Format(time.RFC3339) + "\r\n"; !strings.Contains(string(tsv), want) {
		t.Errorf("COUNTER file lacks %q", want)
	}
	again, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Written != 0 {
		t.Errorf("a rebuild of the same data wrote %d files", again.Written)
	}
	if _, err := site.DB.ExecContext(ctx, `UPDATE loaded_units SET harvested_at = TIMESTAMP '2026-02-05 02:14:00'
		WHERE unit_key = (SELECT min(unit_key) FROM loaded_units)`); err != nil {
		t.Fatal(err)
	}
	newer, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newer.Written < newer.Pages {
		t.Errorf("a newer load rewrote %d files for %d stamped pages", newer.Written, newer.Pages)
	}
}

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

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
		{"a Data_Type only, which the COUNTER file alone shows", func(t *testing.T) {
			if _, err := site.DB.ExecContext(ctx, `UPDATE mart_library_month SET data_type = 'Book'
				WHERE library_id = '2030100' AND month = (SELECT max(month) FROM mart_library_month)`); err != nil {
				t.Fatal(err)
			}
		}, strings.TrimSuffix(lib, ".csv") + ".tsv"},
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
		sameAsFresh(t, site, c.name)
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

// sameAsFresh reports every file of site that differs from what a build
// of the same site into an empty directory makes.
func sameAsFresh(t *testing.T, site *Site, name string) {
	t.Helper()
	fresh := &Site{DB: site.DB, Out: filepath.Join(t.TempDir(), "site"), Lang: site.Lang, DataTime: site.DataTime,
		Platforms: site.Platforms, Harvests: site.Harvests}
	if _, err := fresh.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameTree(t, name, fresh.Out, site.Out)
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

// TestRebuildRemakesChangedPages builds a site, then changes one input of
// a page at a time that its downloads do not share (so only the page's
// own digest can see it) and builds again on the same record: the page
// changes, and every file is what a build into an empty directory makes.
func TestRebuildRemakesChangedPages(t *testing.T) {
	ctx := context.Background()
	site := newHostileSite(t, "nb")
	if _, err := site.Build(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(t *testing.T, query string) {
		t.Helper()
		if _, err := site.DB.ExecContext(ctx, query); err != nil {
			t.Fatal(err)
		}
	}
	lib := filepath.Join("bibliotek", "2030100.html")
	changes := []struct {
		name   string
		change func(t *testing.T)
		file   string // a page the change must alter
	}{
		{"a county's usage, not its libraries'", func(t *testing.T) {
			exec(t, `UPDATE mart_county_month_current SET total = total + 3, pooled = pooled + 3
				WHERE month = (SELECT max(month) FROM mart_county_month_current)`)
		}, filepath.Join("fylke", "03.html")},
		{"a library's inhabitants", func(t *testing.T) {
			exec(t, `UPDATE library_population SET population = population + 1000 WHERE library_id = '2030100'`)
		}, lib},
		{"a top title", func(t *testing.T) {
			// mart_title_month is a view over narrow tables (transform/marts_title.go):
			// rename the library's titles where their names are kept.
			exec(t, `UPDATE narrow.titles SET title = 'Ny tittel' WHERE title_no IN (
				SELECT r.title_no FROM narrow.title_rows r JOIN narrow.title_cells c USING (cell_no) WHERE c.target_id = '2030100')`)
		}, lib},
		{"a harvest's state", func(t *testing.T) { site.Harvests[3].State = bibstat.StateNotReady }, lib},
		{"a page truncated on disk", func(t *testing.T) {
			if err := os.Truncate(filepath.Join(site.Out, lib), 10); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"a page removed", func(t *testing.T) {
			if err := os.Remove(filepath.Join(site.Out, lib)); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	for _, c := range changes {
		var before []byte
		if c.file != "" {
			before = readFile(t, filepath.Join(site.Out, c.file))
		}
		c.change(t)
		if _, err := site.Build(ctx); err != nil {
			t.Fatal(err)
		}
		if c.file != "" && bytes.Equal(before, readFile(t, filepath.Join(site.Out, c.file))) {
			t.Errorf("%s: %s did not change", c.name, c.file)
		}
		sameAsFresh(t, site, c.name)
	}
}
