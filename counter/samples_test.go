package counter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// samplesDir holds the shared, third-party COUNTER samples (not in the repository).
const samplesDir = "../../shared/counter-samples"

// notCounter are the samples that must be rejected: registry responses and
// an unsupported release.
var notCounter = map[string]string{
	"Project-Counter__counter-validator__platform2.json":                            "not a COUNTER document",
	"Project-Counter__counter-validator__ef1cba68-395b-45cd-8331-cf59e40f9ecd.json": "not a COUNTER document",
	"Koha-Community__Koha__UnsupportedCOUNTER.json":                                 `release "99" is not supported`,
}

func TestSharedSamples(t *testing.T) {
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Skipf("samples not present: %v", err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f, err := os.Open(filepath.Join(samplesDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var rows int64
			doc, err := Read(context.Background(), f, Options{Name: e.Name(), Mem: mem, BatchRows: 7},
				func(rec arrow.RecordBatch) error { rows += rec.NumRows(); rec.Release(); return nil })
			if want, bad := notCounter[e.Name()]; bad {
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), e.Name()) {
					t.Fatalf("err = %v, want one naming the file and saying %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rows != doc.Rows {
				t.Errorf("emitted %d rows, document says %d", rows, doc.Rows)
			}
			t.Logf("kind=%s release=%s id=%s rows=%d period=%s..%s exc=%v totals=%v", doc.Kind, doc.Release, doc.ReportID,
				doc.Rows, doc.Header.Begin, doc.Header.End, doc.Exceptions, doc.Totals)
			for _, w := range doc.Warnings {
				t.Logf("  warning: %s", w)
			}
		})
	}
	if n != 47 {
		t.Errorf("read %d samples, want 47", n)
	}
}
