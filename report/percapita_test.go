package report

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// perCapitaSite is a site without a warehouse: usage and populations as
// Build reads them.
func perCapitaSite(libs []libraryRow, use map[string]map[string]float64, pop map[string]int64) *Site {
	s := &Site{libUsage: map[string][]usageRow{}, libPop: map[string]map[int]int64{}}
	for _, l := range libs {
		for platform, n := range use[l.ID] {
			s.libUsage[l.ID] = append(s.libUsage[l.ID], usageRow{Platform: platform, Metric: trendMetric,
				Month: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Count: int64(n), Total: n})
		}
		s.libPop[l.ID] = map[int]int64{2025: pop[l.ID]}
	}
	return s
}

// The denominator is the inhabitants of the libraries that used the
// platform, not of the whole area, and a school's pupils are never added to
// inhabitants: they get their own columns.
func TestPerCapitaDenominators(t *testing.T) {
	libs := []libraryRow{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "vgs", School: true}}
	use := map[string]map[string]float64{
		"a":   {"avis": 1000, "film": 50},
		"b":   {"avis": 500},
		"c":   {}, // takes no part in either platform
		"vgs": {"avis": 30},
	}
	pop := map[string]int64{"a": 100000, "b": 50000, "c": 1000000, "vgs": 600}
	tb := perCapitaSite(libs, use, pop).perCapita(catalog["en"], Scope{Kind: "county"}, libs, 2025)
	want := map[string][]string{
		"avis": {"1,500", "150,000", "10.0", "30", "600", "50.0"},
		"film": {"50", "100,000", "0.5", "no data", "no data", "no data"},
	}
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows", len(tb.Rows))
	}
	for _, r := range tb.Rows {
		if got := r.Cells; !slices.Equal(got, want[r.Label]) {
			t.Errorf("%s: %q, want %q", r.Label, got, want[r.Label])
		}
	}
}

// Whatever the libraries, the inhabitants shown for a platform are the sum
// over the public libraries that used it, and the pupils over the schools.
func TestPerCapitaNeverMixesPupils(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var libs []libraryRow
		use, pop := map[string]map[string]float64{}, map[string]int64{}
		var inhabitants, pupils int64
		for i := range 1 + r.IntN(8) {
			l := libraryRow{ID: strconv.Itoa(i), School: r.IntN(3) == 0}
			libs = append(libs, l)
			pop[l.ID] = int64(1 + r.IntN(100000))
			use[l.ID] = map[string]float64{}
			if r.IntN(4) > 0 {
				use[l.ID]["avis"] = float64(r.IntN(1000))
				if l.School {
					pupils += pop[l.ID]
				} else {
					inhabitants += pop[l.ID]
				}
			}
		}
		m := catalog["en"]
		tb := perCapitaSite(libs, use, pop).perCapita(m, Scope{Kind: "county"}, libs, 2025)
		if inhabitants+pupils == 0 {
			if len(tb.Rows) != 0 {
				t.Fatalf("rows without usage: %v", tb.Rows)
			}
			continue
		}
		cells := tb.Rows[0].Cells
		if want := m.formatInt(inhabitants); inhabitants == 0 && cells[1] != m.NoData || inhabitants > 0 && cells[1] != want {
			t.Fatalf("inhabitants %s, want %s (pupils %d)", cells[1], m.formatInt(inhabitants), pupils)
		}
		if len(cells) == 6 && pupils > 0 && cells[4] != m.formatInt(pupils) {
			t.Fatalf("pupils %s, want %s", cells[4], m.formatInt(pupils))
		}
		if len(cells) == 3 && pupils != 0 {
			t.Fatalf("schools used the platform but have no column")
		}
	}
}
