package agreements

import (
	"context"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
)

// pooledMonthly is n months of own uses and a pooled share for lib.
func pooledMonthly(lib bibstat.LibraryID, from string, n int, own int64, pooled *big.Rat) []Use {
	out := monthly(lib, from, n, own)
	for i := range out {
		out[i].Pooled = pooled
	}
	return out
}

func formulaText(fs []Formula, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Text
		}
	}
	return ""
}

// TestValuePooledUses: a participant's uses are its own and its allocated
// share of pools, stated apart. A (Oslo) uses 31 a month itself and gets
// 185,75 a month of a pool: 372 + 2 229 = 2 601 in 2025, as its library
// page adds them, where the agreement used to say 372.
func TestValuePooledUses(t *testing.T) {
	w := world()
	w.uses["pool"] = append(pooledMonthly("2000001", "2025-01", 12, 31, big.NewRat(743, 4)),
		// B: 2 601 of its own, nothing pooled; C: a pool share only, 10,5 a month.
		append(monthly("2000002", "2025-01", 12, 0), pooledMonthly("2000003", "2025-01", 12, 0, big.NewRat(21, 2))...)...)
	w.uses["pool"][12].Count = 2601
	tests := []struct {
		name       string
		a          Agreement
		uses, own  int64
		pooled     string
		costPerUse string
		allocated  []Money
		partUses   []int64
		formula    string
	}{
		{name: "library with a pool share: 372 + 2 229 = 2 601",
			a:    agreement(ModelFlat, "pool", "2025-01", "2025-12", "26010", lib("2000001")),
			uses: 2601, own: 372, pooled: "2 229", costPerUse: "10,00 NOK",
			allocated: []Money{26010 * nok}, partUses: []int64{2601},
			formula: "own 372 + pooled share 2 229 = 2 601"},
		{name: "usage model splits by own + pooled: A 2 601, B 2 601, C 126",
			a:    agreement(ModelUsage, "pool", "2025-01", "2025-12", "5328", lib("2000001"), lib("2000002"), lib("2000003")),
			uses: 5328, own: 2973, pooled: "2 355", costPerUse: "1,00 NOK",
			allocated: []Money{2601 * nok, 2601 * nok, 126 * nok}, partUses: []int64{2601, 2601, 126},
			formula: "own 2 973 + pooled share 2 355 = 5 328"},
		{name: "county and its library C on its own: C's pool share counts once, to C",
			a:    agreement(ModelFlat, "pool", "2025-01", "2025-12", "1000", lib("2000003"), county("46")),
			uses: 2727, own: 2601, pooled: "126", costPerUse: "0,37 NOK",
			allocated: []Money{500 * nok, 500 * nok}, partUses: []int64{126, 2601},
			formula: "own 2 601 + pooled share 126 = 2 727"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Value(context.Background(), w, tt.a, tt.a.From, tt.a.To)
			if err != nil {
				t.Fatal(err)
			}
			if v.Uses != tt.uses || v.OwnUses != tt.own || formatUses(v.PooledUses) != tt.pooled || v.CostPerUse.String() != tt.costPerUse {
				t.Errorf("uses %d own %d pooled %s cost/use %s; want %d %d %s %s",
					v.Uses, v.OwnUses, formatUses(v.PooledUses), v.CostPerUse, tt.uses, tt.own, tt.pooled, tt.costPerUse)
			}
			if got := formulaText(v.Formulas, "uses"); !strings.Contains(got, tt.formula) {
				t.Errorf("uses formula %q lacks %q", got, tt.formula)
			}
			for i, p := range v.Participants {
				if p.Allocated != tt.allocated[i] || p.Uses != tt.partUses[i] {
					t.Errorf("%s: allocated %s uses %d; want %s %d", p.Name, p.Allocated, p.Uses, tt.allocated[i], tt.partUses[i])
				}
			}
		})
	}
}

// TestValuePopulation: inhabitants are read per year as the warehouse has
// them; a year it lacks is not known, never 0, and allocating by
// inhabitants leaves those months' cost unallocated, saying why.
func TestValuePopulation(t *testing.T) {
	w := world()
	// F: a library under old Ålesund (1507), 58 509 + 9 357 = 67 866
	// inhabitants in 2025 as library_population has them; none known for 2026.
	w.libs = append(w.libs, Library{ID: "2000006", Name: "F", County: "15", Population: map[int]int64{2025: 67866}})
	w.counties["15"] = County{"Møre og Romsdal", map[int]int64{2025: 67866}}
	t.Run("NOK 258 over 67 866 inhabitants is 0,0038 per inhabitant", func(t *testing.T) {
		a := agreement(ModelFlat, "p", "2025-01", "2025-12", "258", lib("2000006"))
		v, err := Value(context.Background(), w, a, a.From, a.To)
		if err != nil {
			t.Fatal(err)
		}
		if v.Population != 67866 || v.CostPerInhabitant.String() != "0,0038 NOK" {
			t.Errorf("population %d, cost per inhabitant %s; want 67 866, 0,0038 NOK", v.Population, v.CostPerInhabitant)
		}
		if got := formulaText(v.Formulas, "cost_per_inhabitant"); !strings.Contains(got, "258,00 / 67 866 = 0,0038 NOK") {
			t.Errorf("formula %q", got)
		}
	})
	t.Run("a year without population is not known", func(t *testing.T) {
		a := agreement(ModelPopulation, "p", "2025-07", "2026-06", "12000", lib("2000006"), lib("2000001"))
		v, err := Value(context.Background(), w, a, a.From, a.To)
		if err != nil {
			t.Fatal(err)
		}
		if v.PopulationReason == "" || v.Population != 0 || v.CostPerInhabitant.String() != "no data" {
			t.Errorf("population %d (%q), cost per inhabitant %s; want not known, no data", v.Population, v.PopulationReason, v.CostPerInhabitant)
		}
		// 2025's six months are allocated by inhabitants, 2026's cannot be.
		if v.Unallocated != 6000*nok || v.Participants[0].Allocated+v.Participants[1].Allocated != 6000*nok {
			t.Errorf("unallocated %s, allocated %s + %s", v.Unallocated, v.Participants[0].Allocated, v.Participants[1].Allocated)
		}
		if got := formulaText(v.Participants[0].Formulas, "allocated"); !strings.Contains(got, "2026-01–2026-06: not allocated, inhabitants of library 2000006 in 2026 not known") {
			t.Errorf("allocated formula %q", got)
		}
		if v.PopulationShare != nil || v.NationalPop != 0 {
			t.Errorf("population share %v of %d, want none", v.PopulationShare, v.NationalPop)
		}
	})
	t.Run("a flat split needs no inhabitants", func(t *testing.T) {
		a := agreement(ModelFlat, "p", "2025-07", "2026-06", "12000", lib("2000006"), lib("2000001"))
		v, err := Value(context.Background(), w, a, a.From, a.To)
		if err != nil {
			t.Fatal(err)
		}
		if v.Unallocated != 0 || v.Participants[0].Allocated != 6000*nok {
			t.Errorf("unallocated %s, F %s", v.Unallocated, v.Participants[0].Allocated)
		}
	})
}

// TestValueCountsOnce is a property: with every county taking part and any
// libraries taking part on their own as well, for any months, each
// inhabitant and each use is counted exactly once: the population covered
// is Norway's and the uses are all the libraries' own and pooled uses.
func TestValueCountsOnce(t *testing.T) {
	w := world()
	w.uses["r"] = append(pooledMonthly("2000001", "2025-01", 12, 7, big.NewRat(5, 4)),
		append(pooledMonthly("2000002", "2025-01", 12, 3, big.NewRat(1, 3)),
			append(monthly("2000004", "2025-01", 12, 11), pooledMonthly("2000005", "2025-03", 6, 0, big.NewRat(2, 1))...)...)...)
	all := new(big.Rat)
	for _, u := range w.uses["r"] {
		all.Add(all, big.NewRat(u.Count, 1))
		if u.Pooled != nil {
			all.Add(all, u.Pooled)
		}
	}
	rng := rand.New(rand.NewPCG(19, 5))
	for i := range 150 {
		var parts []Participant
		for _, c := range []string{"03", "46", "31", "32", "33"} {
			parts = append(parts, county(c))
		}
		for _, l := range w.libs {
			if rng.IntN(2) == 0 {
				continue
			}
			p := lib(string(l.ID))
			p.Joined = mon("2025-01").Add(rng.IntN(12))
			p.Left = p.Joined.Add(rng.IntN(13 - int(p.Joined.Mon)))
			parts = append(parts, p)
		}
		rng.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
		model := models[rng.IntN(len(models))]
		a := agreement(model, "r", "2025-01", "2025-12", "100000", parts...)
		v, err := Value(context.Background(), w, a, a.From, a.To)
		if err != nil {
			t.Fatal(err)
		}
		uses := new(big.Rat).Add(big.NewRat(v.OwnUses, 1), v.PooledUses)
		if v.Population != 5600 || uses.Cmp(all) != 0 {
			t.Fatalf("case %d (%s, %v): population %d, uses %s; want 5 600 and %s", i, model, parts, v.Population, uses.FloatString(3), all.FloatString(3))
		}
		var sum Money
		for _, p := range v.Participants {
			sum += p.Allocated
		}
		if sum+v.Unallocated != v.Cost {
			t.Fatalf("case %d: allocated %s + unallocated %s ≠ cost %s", i, sum, v.Unallocated, v.Cost)
		}
	}
}
