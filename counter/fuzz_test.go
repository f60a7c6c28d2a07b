package counter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds the project's fixtures, and the shared samples when present,
// whose names end with one of exts.
func seeds(f *testing.F, exts ...string) {
	for _, dir := range []string{fixtures, samplesDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, name := range files {
			for _, ext := range exts {
				if strings.HasSuffix(name, ext) {
					if b, err := os.ReadFile(name); err == nil && len(b) < 16<<10 { // big seeds make minimisation crawl
						f.Add(b)
					}
				}
			}
		}
	}
}

// fuzzRead reads in with small limits; any error is fine, a panic, a leak,
// rows or totals that do not match the batches, or an Empty document with
// rows are not.
func fuzzRead(t *testing.T, in []byte) {
	opts := Options{BatchRows: 3, MaxBytes: 1 << 20, MaxLineBytes: 4096, MaxColumns: 256, MaxDepth: 32}
	doc, rows, sum, err := readSummed(t, "fuzz", in, opts)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "fuzz: ") {
			t.Fatalf("error does not name the document: %v", err)
		}
		return
	}
	if doc.Rows != rows {
		t.Fatalf("document says %d rows, batches hold %d", doc.Rows, rows)
	}
	if got := sumTotals(doc); got != sum {
		t.Fatalf("document totals %v sum to %d, batches' counts to %d", doc.Totals, got, sum)
	}
	if doc.Empty && (doc.Rows != 0 || doc.Skipped != 0) {
		t.Fatalf("Empty document with %d rows and %d skipped", doc.Rows, doc.Skipped)
	}
	if doc.Skipped < 0 {
		t.Fatalf("Skipped = %d", doc.Skipped)
	}
}

func FuzzReadJSON(f *testing.F) {
	seeds(f, ".json")
	f.Add([]byte(`{"Report_Header":{"Release":"5.1"},"Report_Items":[{"Items":[{"Attribute_Performance":[{"Performance":{"X":{"2022-01":"1"}}}]}]}]}`))
	f.Fuzz(fuzzRead)
}

func FuzzReadTabular(f *testing.F) {
	seeds(f, ".tsv", ".csv")
	f.Add([]byte("Platform,Metric_Type,Jan-2022\nP,Searches_Platform,\"1,0\"\"\n"))
	f.Fuzz(fuzzRead)
}
