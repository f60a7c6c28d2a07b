package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/store"
)

func TestLanguages(t *testing.T) {
	cases := []struct {
		lang   Lang
		phrase string
	}{
		{"nb", "Visninger og nedlastinger per måned"},
		{"nn", "Visingar og nedlastingar per månad"},
		{"en", "Views and downloads per month"},
	}
	for _, c := range cases {
		t.Run(string(c.lang), func(t *testing.T) {
			site := buildHostileSite(t, c.lang)
			b, err := os.ReadFile(filepath.Join(site, "bibliotek", "2190200.html"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			if !strings.Contains(page, `<html lang="`+string(c.lang)+`">`) {
				t.Errorf("page does not declare lang %s", c.lang)
			}
			if !strings.Contains(page, c.phrase) {
				t.Errorf("page lacks %q", c.phrase)
			}
		})
	}
}

func TestPublish(t *testing.T) {
	site := buildHostileSite(t, "nb")
	st := store.NewMemory()
	n, err := Publish(context.Background(), site, st)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(context.Background(), "reports/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != n || n == 0 {
		t.Fatalf("published %d, store has %d", n, len(keys))
	}
	for _, want := range []string{"reports/index.html", "reports/assets/echarts.min.js", "reports/bibliotek/2030100-bruk.xlsx"} {
		found := false
		for _, k := range keys {
			found = found || k == want
		}
		if !found {
			t.Errorf("%s not published", want)
		}
	}
}

// A Build killed mid-write leaves its temporary files; the next Build
// removes them before a web server serves them.
func TestRemoveTemporaries(t *testing.T) {
	out := t.TempDir()
	files := map[string]bool{"index.html": true, "bibliotek/.tmp-2647900691": false,
		"bibliotek/.tmp-2030100-bruk.parquet": false, "bibliotek/2030100.html": true}
	for f := range files {
		p := filepath.Join(out, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeTemporaries(out); err != nil {
		t.Fatal(err)
	}
	for f, keep := range files {
		_, err := os.Stat(filepath.Join(out, filepath.FromSlash(f)))
		if kept := err == nil; kept != keep {
			t.Errorf("%s: kept %t, want %t", f, kept, keep)
		}
	}
	if err := removeTemporaries(filepath.Join(out, "none")); err != nil {
		t.Errorf("a site not yet written: %v", err)
	}
}

// TestWriteSite writes the hostile site in each language under
// $BIBSTAT_SITE_DIR, to look at by hand; skipped without it.
func TestWriteSite(t *testing.T) {
	out := os.Getenv("BIBSTAT_SITE_DIR")
	if out == "" {
		t.Skip("BIBSTAT_SITE_DIR not set")
	}
	for _, lang := range []Lang{"nb", "nn", "en"} {
		site := buildHostileSite(t, lang)
		if err := os.CopyFS(filepath.Join(out, string(lang)), os.DirFS(site)); err != nil {
			t.Fatal(err)
		}
	}
}
