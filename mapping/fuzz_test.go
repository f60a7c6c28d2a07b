package mapping

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// FuzzParseMapping: no mapping text makes the reader panic, and a mapping
// it accepts is valid.
func FuzzParseMapping(f *testing.F) {
	names, _ := filepath.Glob("../testdata/mappings/*.yaml")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(goodMapping))
	f.Add([]byte("a: &a [*a, *a, *a, *a]\n"))
	f.Add([]byte("vendor: x\nlibrary: {by: name, table: {a: '2030100'}, column: c}\nmonth: {unpivot: true}\nmetric: Total_Item_Requests\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(strings.NewReader(string(data)), "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mapping fuzz.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if m.Vendor == "" || m.HeaderRow < 1 || m.DataStart <= m.HeaderRow || len(m.Metrics)+len(m.Metric)+len(m.MetricColumn) == 0 {
			t.Errorf("accepted an invalid mapping: %+v", m)
		}
	})
}

// FuzzMappedRead: no file makes a mapped read panic or emit a row without
// a month, a library or a non-negative count; memory is bounded by Limits.
func FuzzMappedRead(f *testing.F) {
	ms, err := LoadDir("../testdata/mappings")
	if err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("../testdata/vendor-files", "*"))
	for _, n := range files {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		for i := range []string{"avisleser", "filmstrom", "leksikon"} {
			f.Add(b, uint8(i))
		}
	}
	f.Add([]byte("Kundenr;Måned;Økter\n\"AV-10231;01.2025;1 234\n"), uint8(0))
	vendors := []string{"avisleser", "filmstrom", "leksikon"}
	lim := Limits{MaxFileBytes: 1 << 20, MaxRows: 2000, MaxColumns: 64, MaxCellBytes: 256, MaxUnits: 500}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		m := ms[vendors[int(which)%len(vendors)]]
		_, _ = m.ReadRows(context.Background(), data, ReadOptions{Name: "fuzz", Limits: lim},
			func(lib bibstat.LibraryID, mon bibstat.Month, r *schemas.Row) error {
				if lib == "" || mon.IsZero() {
					t.Fatalf("row without library or month: %q %v", lib, mon)
				}
				if r != nil && (r.Count <= 0 || r.Month.IsZero() || r.MetricType == "") {
					t.Fatalf("bad row %+v", r)
				}
				return nil
			})
	})
}

// FuzzValues: the month and number parsers never panic.
func FuzzValues(f *testing.F) {
	for _, s := range []string{"2025-01", "jan-25", "1 234,5", "45658", "des.", "1.234.567,89", "−5", "2025 mai"} {
		f.Add(s, 2025, false)
	}
	f.Fuzz(func(t *testing.T, s string, year int, numeric bool) {
		if m, err := parseMonth(s, year, numeric); err == nil && (m.Year < 1950 || m.Year > 2120) {
			t.Errorf("parseMonth(%q) = %v", s, m)
		}
		if n, err := parseCount(s, NumbersAuto, numeric); err == nil && n < 0 {
			t.Errorf("parseCount(%q) = %d", s, n)
		}
		_, _ = parseNumber(s, NumbersNO, numeric)
		_, _ = parseNumber(s, NumbersEN, numeric)
	})
}
