package counter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
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

// fuzzRead reads in with small limits; any error is fine, a panic, a leak
// or rows that do not match the batches are not.
func fuzzRead(t *testing.T, in []byte) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var n int64
	opts := Options{Name: "fuzz", Mem: mem, BatchRows: 3, MaxBytes: 1 << 20, MaxLineBytes: 4096, MaxColumns: 256, MaxDepth: 32}
	doc, err := Read(context.Background(), bytes.NewReader(in), opts, func(rec arrow.RecordBatch) error {
		n += rec.NumRows()
		rec.Release()
		return nil
	})
	if err == nil && doc.Rows != n {
		t.Fatalf("document says %d rows, batches hold %d", doc.Rows, n)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "fuzz: ") {
		t.Fatalf("error does not name the document: %v", err)
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
