package upload

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/store"
)

// fixtureFiles are every fixture a load may meet: COUNTER files, vendor
// exports and the upload cases.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"../../testdata/counter", vendorFiles, uploadFiles} {
		names, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.HasSuffix(n, ".golden") && !strings.HasSuffix(n, ".md") {
				out = append(out, n)
			}
		}
	}
	return out
}

// badVariants are ways a good file goes wrong: cut short, counts garbled,
// dates moved out of the period, Report_Items not a list, only the header
// rows, an exception in its place.
func badVariants(data []byte) map[string][]byte {
	half := len(data) / 2
	mapHalf := func(f func(rune) rune) []byte {
		return append(bytes.Clone(data[:half]), bytes.Map(f, data[half:])...)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	return map[string][]byte{
		"truncated": data[:half],
		"counts garbled": mapHalf(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'x'
			}
			return r
		}),
		"dates moved": append(bytes.Clone(data[:half]), strings.NewReplacer("2025", "2031", "2024", "2030", "2023", "2029", "2021", "2027").Replace(string(data[half:]))...),
		"items an object": bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(`"Report_Items":[]`), []byte(`"Report_Items":null`)),
			[]byte(`"Report_Items":[`), []byte(`"Report_Items":{"x":[`)),
		"header only": bytes.Join(lines[:min(len(lines), 14)], nil),
		"exception":   []byte(`{"Code":1011,"Message":"Report Queued for Processing"}`),
	}
}

// TestPropertyUploadNeverLowersUsageWithoutSayingSo: over every fixture
// and its bad variants, loading the variant on top of the fixture never
// lowers a unit's total unless the variant is a positive "no usage"
// (Empty, 3030) or a restatement with rows.
func TestPropertyUploadNeverLowersUsageWithoutSayingSo(t *testing.T) {
	maps := loadTestMappings(t)
	for _, file := range fixtureFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			lowersOnlyWhenSaid(t, maps, file)
		})
	}
}

// lowersOnlyWhenSaid loads each bad variant of file on top of it.
func lowersOnlyWhenSaid(t *testing.T, maps map[string]*Mapping, file string) {
	ctx := context.Background()
	base := filepath.Base(file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vendor := "p"
	for v := range maps {
		if strings.HasPrefix(base, v) {
			vendor = v
		}
	}
	f := File{Name: base, Data: data, Vendor: vendor}
	if doc, err := counter.Read(ctx, bytes.NewReader(data), counter.Options{}, nil); err == nil && isilOf(doc.Header.InstitutionID) == "" {
		f.Library = "2030100"
	}
	for name, bad := range badVariants(data) {
		for _, partial := range []bool{false, true} {
			if partial && name != "counts garbled" {
				continue // --accept-partial reads past bad counts only
			}
			st := store.NewMemory()
			in := &Ingester{Store: st, Mappings: maps, By: "kari", Now: clock(), AcceptPartial: partial}
			if _, err := in.Ingest(ctx, f); err != nil {
				t.Fatal(err)
			}
			before := unitTotals(t, st)
			g := f
			g.Name, g.Data = "variant-"+base, bad
			out, err := in.Ingest(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if says, why := saysSo(ctx, bad, out, partial); !says {
				for u, n := range unitTotals(t, st) {
					if n < before[u] {
						t.Errorf("%s %s (accept-partial %v): %s lowered %d → %d by a file that %s (%s: %s)",
							base, name, partial, u, before[u], n, why, out.Status, out.Reason)
					}
				}
			}
		}
	}
}

// saysSo says whether a file may lower usage: read as COUNTER it is Empty,
// says 3030 or has rows; read through a mapping it has rows. Under
// --accept-partial the rows left after its bad cells are a restatement
// the operator accepted, flagged partial.
func saysSo(ctx context.Context, data []byte, out *Outcome, partial bool) (bool, string) {
	doc, err := counter.Read(ctx, bytes.NewReader(data), counter.Options{AcceptPartial: partial}, nil)
	switch {
	case err == nil && (doc.Empty || doc.Rows > 0):
		return true, ""
	case err == nil:
		for _, e := range doc.Exceptions {
			if e.Code == 3030 {
				return true, ""
			}
		}
		return false, "has no rows and is not Empty"
	case out.Kind == "mapping" && out.Rows > 0:
		return true, ""
	}
	return false, "does not read (" + err.Error() + ")"
}
