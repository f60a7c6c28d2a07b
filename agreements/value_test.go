package agreements

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
)

// fakeSource is a small world whose numbers are easy to follow by hand.
type fakeSource struct {
	libs     []Library
	counties map[string]County
	uses     map[string][]Use // by platform
}

var _ Source = (*fakeSource)(nil)

func (f *fakeSource) Libraries(context.Context) ([]Library, error)        { return f.libs, nil }
func (f *fakeSource) Counties(context.Context) (map[string]County, error) { return f.counties, nil }
func (f *fakeSource) Uses(_ context.Context, platforms, _ []string, first, last bibstat.Month) ([]Use, error) {
	var out []Use
	for _, p := range platforms {
		for _, u := range f.uses[p] {
			if !u.Month.Before(first) && !last.Before(u.Month) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

func mon(s string) bibstat.Month {
	m, err := bibstat.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

// world: libraries A (Oslo, 600), B and C (Vestland, 300 and 100), D
// (Akershus, 200) and E (Buskerud, 50). Vestland has 1 000 inhabitants,
// Akershus 2 000, Østfold and Buskerud 1 000 each, Oslo 600: Norway 5 600.
func world() *fakeSource {
	return &fakeSource{
		libs: []Library{
			{ID: "2000001", Name: "A", County: "03", Population: everyYear(600)},
			{ID: "2000002", Name: "B", County: "46", Population: everyYear(300)},
			{ID: "2000003", Name: "C", County: "46", Population: everyYear(100)},
			{ID: "2000004", Name: "D", County: "32", Population: everyYear(200)},
			{ID: "2000005", Name: "E", County: "33", Population: everyYear(50)},
		},
		counties: map[string]County{"03": {"Oslo", everyYear(600)}, "46": {"Vestland", everyYear(1000)},
			"31": {"Østfold", everyYear(1000)}, "32": {"Akershus", everyYear(2000)}, "33": {"Buskerud", everyYear(1000)}},
		uses: map[string][]Use{
			// 2025: A 3 000 uses (250 a month), B harvested but 0 uses in every month, C nothing harvested.
			"p": append(monthly("2000001", "2025-01", 12, 250), monthly("2000002", "2025-01", 12, 0)...),
			// usage model: A 3 000, B 1 000, C 0.
			"u": append(append(monthly("2000001", "2025-01", 12, 250), monthly("2000002", "2025-01", 4, 250)...), monthly("2000003", "2025-01", 12, 0)...),
			// county split: D uses 100 in 2023-06, E 50 in 2024-06, B 10 a month in 2023 and 2024.
			"v": append([]Use{{"2000004", mon("2023-06"), 100, nil}, {"2000005", mon("2024-06"), 50, nil}}, monthly("2000002", "2023-01", 24, 10)...),
			// county participation: B 40 a month, C 10 a month in 2025.
			"c": append(monthly("2000002", "2025-01", 12, 40), monthly("2000003", "2025-01", 12, 10)...),
		},
	}
}

// everyYear is n inhabitants in each year from 2020 to 2026.
func everyYear(n int64) map[int]int64 {
	out := map[int]int64{}
	for y := 2020; y <= 2026; y++ {
		out[y] = n
	}
	return out
}

func monthly(lib bibstat.LibraryID, from string, n int, count int64) []Use {
	var out []Use
	for i := range n {
		out = append(out, Use{lib, mon(from).Add(i), count, nil})
	}
	return out
}

func agreement(model Model, platform, from, to, price string, parts ...Participant) Agreement {
	p, _ := new(big.Rat).SetString(price)
	a := Agreement{ID: "a1", Name: "Test", Vendor: "V", Platforms: []string{platform}, DataType: DataContent,
		From: mon(from), To: mon(to), Price: p, VATIncluded: true, VATRate: new(big.Rat), Model: model}
	if model == ModelBasePopulation {
		a.BaseShare = big.NewRat(3, 10)
	}
	for _, q := range parts {
		if q.Joined.IsZero() {
			q.Joined = a.From
		}
		if q.Left.IsZero() {
			q.Left = a.To
		}
		a.Participants = append(a.Participants, q)
	}
	return a
}

func lib(id string) Participant   { return Participant{Library: bibstat.LibraryID(id)} }
func county(c string) Participant { return Participant{County: c} }
func join(p Participant, m string) Participant {
	p.Joined = mon(m)
	return p
}

const nok = 100 // øre

func TestValue(t *testing.T) {
	abc := []Participant{lib("2000001"), lib("2000002"), lib("2000003")}
	tests := []struct {
		name        string
		a           Agreement
		first, last string
		cost        Money
		uses        int64
		costPerUse  string
		costPerInh  string
		population  int64
		libraries   int
		allocated   []Money
		ownPerUse   []string
		unallocated Money
	}{
		{name: "flat: equal shares; zero use and no data are named, never 0 or infinity",
			a:     agreement(ModelFlat, "p", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 3000, costPerUse: "40,00 NOK",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{40000 * nok, 40000 * nok, 40000 * nok},
			ownPerUse: []string{"13,33 NOK", "no uses", "no data"}},
		{name: "population: 600/300/100 of 1 000",
			a:     agreement(ModelPopulation, "p", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 3000, costPerUse: "40,00 NOK",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{72000 * nok, 36000 * nok, 12000 * nok},
			ownPerUse: []string{"24,00 NOK", "no uses", "no data"}},
		{name: "usage: 3 000/1 000/0 of 4 000",
			a:     agreement(ModelUsage, "u", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 4000, costPerUse: "30,00 NOK",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{90000 * nok, 30000 * nok, 0},
			ownPerUse: []string{"30,00 NOK", "30,00 NOK", "no uses"}},
		{name: "base 0.3 equally, 0.7 by population: 12 000 + 84 000 × 600/1 000 …",
			a:     agreement(ModelBasePopulation, "p", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 3000, costPerUse: "40,00 NOK",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{62400 * nok, 37200 * nok, 20400 * nok},
			ownPerUse: []string{"20,80 NOK", "no uses", "no data"}},
		{name: "proration: 3 of 12 months cost a quarter",
			a:     agreement(ModelFlat, "p", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-03", cost: 30000 * nok, uses: 750, costPerUse: "40,00 NOK",
			costPerInh: "30,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{10000 * nok, 10000 * nok, 10000 * nok},
			ownPerUse: []string{"13,33 NOK", "no uses", "no data"}},
		{name: "proration: a year asked of an agreement from July to June values its six months",
			a:     agreement(ModelFlat, "p", "2024-07", "2025-06", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 60000 * nok, uses: 1500, costPerUse: "40,00 NOK",
			costPerInh: "60,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{20000 * nok, 20000 * nok, 20000 * nok},
			ownPerUse: []string{"13,33 NOK", "no uses", "no data"}},
		{name: "flat, C joins in July: 5 000 × 6 + 3 333,33 × 6 for A and B, 3 333,33 × 6 for C",
			a:     agreement(ModelFlat, "p", "2025-01", "2025-12", "120000", lib("2000001"), lib("2000002"), join(lib("2000003"), "2025-07")),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 3000, costPerUse: "40,00 NOK",
			costPerInh: "126,32 NOK", population: 950, libraries: 3,
			allocated: []Money{50000 * nok, 50000 * nok, 20000 * nok},
			ownPerUse: []string{"16,67 NOK", "no uses", "no data"}},
		{name: "population, C joins in July: A 600/900 × 60 000 + 600/1 000 × 60 000",
			a:     agreement(ModelPopulation, "p", "2025-01", "2025-12", "120000", lib("2000001"), lib("2000002"), join(lib("2000003"), "2025-07")),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 3000, costPerUse: "40,00 NOK",
			costPerInh: "126,32 NOK", population: 950, libraries: 3,
			allocated: []Money{76000 * nok, 38000 * nok, 6000 * nok},
			ownPerUse: []string{"25,33 NOK", "no uses", "no data"}},
		{name: "county: Vestland (1 000 inhabitants) covers B and C; A 600/1 600",
			a:     agreement(ModelPopulation, "c", "2025-01", "2025-12", "120000", lib("2000001"), county("46")),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 600, costPerUse: "200,00 NOK",
			costPerInh: "75,00 NOK", population: 1600, libraries: 3,
			allocated: []Money{45000 * nok, 75000 * nok},
			ownPerUse: []string{"no data", "125,00 NOK"}},
		{name: "county and one of its libraries on its own: B's uses and its 300 inhabitants count once, to B; Vestland 1 000 − 300",
			a:     agreement(ModelFlat, "c", "2025-01", "2025-12", "120000", lib("2000002"), county("46")),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 600, costPerUse: "200,00 NOK",
			costPerInh: "120,00 NOK", population: 1000, libraries: 2,
			allocated: []Money{60000 * nok, 60000 * nok},
			ownPerUse: []string{"125,00 NOK", "500,00 NOK"}},
		{name: "2023 in the old structure: Viken (30) covers D and E, 4 000 inhabitants",
			a:     agreement(ModelPopulation, "v", "2023-01", "2024-12", "240000", lib("2000002"), county("30")),
			first: "2023-01", last: "2023-12", cost: 120000 * nok, uses: 220, costPerUse: "545,45 NOK",
			costPerInh: "27,91 NOK", population: 4300, libraries: 3,
			allocated: []Money{8372_09, 111627_91},
			ownPerUse: []string{"69,77 NOK", "1 116,28 NOK"}},
		{name: "2024 after the split: Viken (30) still stands for Østfold, Akershus and Buskerud",
			a:     agreement(ModelPopulation, "v", "2023-01", "2024-12", "240000", lib("2000002"), county("30")),
			first: "2024-01", last: "2024-12", cost: 120000 * nok, uses: 170, costPerUse: "705,88 NOK",
			costPerInh: "27,91 NOK", population: 4300, libraries: 3,
			allocated: []Money{8372_09, 111627_91},
			ownPerUse: []string{"69,77 NOK", "2 232,56 NOK"}},
		{name: "2024 county code: Akershus (32) covers only D, 2 000 inhabitants",
			a:     agreement(ModelFlat, "v", "2024-01", "2024-12", "120000", county("32")),
			first: "2024-01", last: "2024-12", cost: 120000 * nok, uses: 0, costPerUse: "no data",
			costPerInh: "60,00 NOK", population: 2000, libraries: 1,
			allocated: []Money{120000 * nok},
			ownPerUse: []string{"no data"}},
		{name: "no harvested data yet: no data, never 0 or infinity",
			a:     agreement(ModelFlat, "none", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 0, costPerUse: "no data",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{40000 * nok, 40000 * nok, 40000 * nok},
			ownPerUse: []string{"no data", "no data", "no data"}},
		{name: "no harvested data, usage model: nothing allocated, the cost stays unallocated",
			a:     agreement(ModelUsage, "none", "2025-01", "2025-12", "120000", abc...),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 0, costPerUse: "no data",
			costPerInh: "120,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{0, 0, 0}, unallocated: 120000 * nok,
			ownPerUse: []string{"no data", "no data", "no data"}},
		{name: "rounding: 100 000 over 7 months among 3 adds up to the øre",
			a:     agreement(ModelFlat, "p", "2025-01", "2025-07", "100000", abc...),
			first: "2025-01", last: "2025-07", cost: 100000 * nok, uses: 1750, costPerUse: "57,14 NOK",
			costPerInh: "100,00 NOK", population: 1000, libraries: 3,
			allocated: []Money{33333_34, 33333_33, 33333_33},
			ownPerUse: []string{"19,05 NOK", "no uses", "no data"}},
		{name: "months without participants are not allocated",
			a:     agreement(ModelFlat, "p", "2025-01", "2025-12", "120000", join(lib("2000001"), "2025-07")),
			first: "2025-01", last: "2025-12", cost: 120000 * nok, uses: 1500, costPerUse: "80,00 NOK",
			costPerInh: "400,00 NOK", population: 300, libraries: 1,
			allocated: []Money{60000 * nok}, unallocated: 60000 * nok,
			ownPerUse: []string{"40,00 NOK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Value(context.Background(), world(), tt.a, mon(tt.first), mon(tt.last))
			if err != nil {
				t.Fatal(err)
			}
			if v.Cost != tt.cost || v.Uses != tt.uses || v.CostPerUse.String() != tt.costPerUse ||
				v.CostPerInhabitant.String() != tt.costPerInh || v.Population != tt.population ||
				v.Libraries != tt.libraries || v.Unallocated != tt.unallocated {
				t.Errorf("cost %s uses %d cost/use %s cost/inh %s pop %d libs %d unalloc %s\nwant %s %d %s %s %d %d %s",
					v.Cost, v.Uses, v.CostPerUse, v.CostPerInhabitant, v.Population, v.Libraries, v.Unallocated,
					tt.cost, tt.uses, tt.costPerUse, tt.costPerInh, tt.population, tt.libraries, tt.unallocated)
			}
			var sum Money
			for i, p := range v.Participants {
				sum += p.Allocated
				if p.Allocated != tt.allocated[i] || p.CostPerUse.String() != tt.ownPerUse[i] {
					t.Errorf("%s: allocated %s, cost per use %s; want %s, %s",
						p.Name, p.Allocated, p.CostPerUse, tt.allocated[i], tt.ownPerUse[i])
				}
			}
			if sum+v.Unallocated != v.Cost {
				t.Errorf("allocated %s + unallocated %s ≠ cost %s", sum, v.Unallocated, v.Cost)
			}
			for _, f := range v.Formulas {
				if strings.Contains(f.Text, "Inf") || strings.Contains(f.Text, "NaN") {
					t.Errorf("formula %s: %s", f.Name, f.Text)
				}
			}
		})
	}
}

func TestValueOutsidePeriod(t *testing.T) {
	a := agreement(ModelFlat, "p", "2025-01", "2025-12", "1000", lib("2000001"))
	_, err := Value(context.Background(), world(), a, mon("2026-01"), mon("2026-12"))
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("err = %v, want outside the agreement period", err)
	}
}

func TestPriceVAT(t *testing.T) {
	a := Agreement{Price: big.NewRat(100000, 1), VATRate: big.NewRat(1, 4)}
	if got := toMoney(a.PriceInclVAT()); got != 125000*nok {
		t.Errorf("excl. VAT 100 000 at 25 %%: incl. %s, want 125 000,00", got)
	}
	a.VATIncluded = true
	if got := toMoney(a.PriceExclVAT()); got != 80000*nok {
		t.Errorf("incl. VAT 100 000 at 25 %%: excl. %s, want 80 000,00", got)
	}
}

func TestMoneyString(t *testing.T) {
	for _, tt := range []struct {
		m    Money
		want string
	}{{0, "0,00"}, {5, "0,05"}, {120000 * nok, "120 000,00"}, {123456789, "1 234 567,89"}, {-150, "-1,50"}} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%d øre = %q, want %q", int64(tt.m), got, tt.want)
		}
	}
}
