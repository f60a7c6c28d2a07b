package report

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
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

	site.Now = func() time.Time { return time.Date(2026, 1, 5, 7, 31, 0, 0, time.UTC) }
	third, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if third.Written < third.Pages {
		t.Errorf("a build at another time wrote %d files for %d stamped pages", third.Written, third.Pages)
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
