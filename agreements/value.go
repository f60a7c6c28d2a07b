package agreements

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Library is what valuation needs to know of a library.
type Library struct {
	ID           bibstat.LibraryID
	Name         string
	Municipality string // as registered
	County       string // its county in the 2024 structure (library_county)
	// Population is the inhabitants it serves by year, as the warehouse's
	// library_population has them; a year absent is not known.
	Population map[int]int64
}

// County is a county of the 2024 structure.
type County struct {
	Name string
	// Population is its inhabitants by year, the sum of its
	// municipalities' in population_by_year; a year absent is not known.
	Population map[int]int64
}

// Use is the uses of one library in one month, summed over an agreement's
// platforms and use metrics: its own and its allocated share of pools. A
// Use whose counts are 0 is harvested data that shows no use; a
// library-month without a Use has no harvested data.
type Use struct {
	Library bibstat.LibraryID
	Month   bibstat.Month
	Count   int64    // attributed to the library itself
	Pooled  *big.Rat // its share of pooled usage (mart_pool_allocation); nil for none
}

// Source is what valuation reads from the warehouse.
type Source interface {
	// Libraries returns the library register with each library's 2024 county and inhabitants.
	Libraries(ctx context.Context) ([]Library, error)
	// Counties returns the counties of the 2024 structure with their inhabitants, by number.
	Counties(ctx context.Context) (map[string]County, error)
	// Uses returns uses per library and month on platforms, summing metrics, from first to last.
	Uses(ctx context.Context, platforms, metrics []string, first, last bibstat.Month) ([]Use, error)
}

// Formula is one figure with how it was computed from its inputs.
type Formula struct {
	Name string // e.g. "cost_per_use"
	Text string // e.g. "cost / uses = 120 000,00 / 48 213 = 2,49 NOK"
}

// Valuation is what an agreement was worth over a period.
type Valuation struct {
	Agreement   Agreement
	First, Last bibstat.Month // the months valued: the asked period within the agreement period
	Months      int
	Cost        Money // the price of the months valued, incl. VAT
	Unallocated Money // cost of months without any participant, or without what to allocate by
	HasData     bool  // some usage was harvested for a participant in the period
	// Uses is OwnUses + PooledUses rounded to whole uses, the figure a
	// library's page shows; cost per use is computed from the exact sum.
	Uses       int64
	OwnUses    int64    // attributed to the participants' libraries themselves
	PooledUses *big.Rat // their allocated shares of pools
	CostPerUse Quotient
	// Population is the inhabitants covered, averaged over the months
	// valued; when PopulationReason is set it is not known (0).
	Population        int64
	PopulationReason  string
	CostPerInhabitant Quotient
	NationalPop       int64    // 0 when not known
	PopulationShare   *big.Rat // Population / NationalPop; nil when unknown
	Libraries         int      // libraries covered in some month of the period
	Participants      []ParticipantValue
	Formulas          []Formula // every figure's formula, in reading order
}

// ParticipantValue is one participant's part of a Valuation.
type ParticipantValue struct {
	Participant      Participant
	Name             string // the library's name or "county 40"
	Months           int    // months taking part within the period
	Libraries        int    // libraries covered in some month of the period
	Population       int64  // inhabitants, averaged over its months; 0 when PopulationReason is set
	PopulationReason string
	Allocated        Money
	Unallocated      string // why no cost could be allocated (usage model without uses), or ""
	HasData          bool
	Uses             int64 // OwnUses + PooledUses, rounded
	OwnUses          int64
	PooledUses       *big.Rat
	CostPerUse       Quotient
	Formulas         []Formula

	uses *big.Rat // exact OwnUses + PooledUses
}

// ErrOutsidePeriod: the period asked for does not overlap the agreement period.
var ErrOutsidePeriod = errors.New("period outside the agreement period")

// Value computes what agreement a was worth from first to last (clipped to
// the agreement period), reading usage and population from src.
func Value(ctx context.Context, src Source, a Agreement, first, last bibstat.Month) (*Valuation, error) {
	if first.Before(a.From) {
		first = a.From
	}
	if a.To.Before(last) {
		last = a.To
	}
	if last.Before(first) {
		return nil, fmt.Errorf("value %s: %s–%s: %w", a.ID, a.From, a.To, ErrOutsidePeriod)
	}
	// A registry imported before use_metrics was checked may still add a
	// Unique_ to a Total_ metric: no figure is better than one counting uses twice.
	if err := checkMetrics(a.ID, a.Metrics()); err != nil {
		return nil, fmt.Errorf("value %s: %w", a.ID, err)
	}
	libs, err := src.Libraries(ctx)
	if err != nil {
		return nil, fmt.Errorf("value %s: %w", a.ID, err)
	}
	counties, err := src.Counties(ctx)
	if err != nil {
		return nil, fmt.Errorf("value %s: %w", a.ID, err)
	}
	uses, err := src.Uses(ctx, a.Platforms, a.Metrics(), first, last)
	if err != nil {
		return nil, fmt.Errorf("value %s: %w", a.ID, err)
	}
	c := newCalc(a, libs, counties, uses, first, last)
	return c.run(), nil
}

// libUses is one library's uses in one month: its own and its pooled share.
type libUses struct {
	own    int64
	pooled *big.Rat
}

// calc holds the inputs of one valuation.
type calc struct {
	a        Agreement
	months   []bibstat.Month
	libs     map[bibstat.LibraryID]Library
	libOrder []bibstat.LibraryID
	counties map[string]County
	uses     map[bibstat.LibraryID]map[bibstat.Month]*libUses // present = harvested
	perMonth *big.Rat                                         // price incl. VAT / agreement months
	v        *Valuation
}

// newCalc sizes its maps and lists at once, and takes a library-month's
// uses from one slice: a site values agreements some 800 times, and maps
// grown by doubling were a tenth of what a build allocated.
func newCalc(a Agreement, libs []Library, counties map[string]County, uses []Use, first, last bibstat.Month) *calc {
	c := &calc{a: a, months: bibstat.MonthsBetween(first, last), libs: make(map[bibstat.LibraryID]Library, len(libs)),
		libOrder: make([]bibstat.LibraryID, 0, len(libs)), counties: counties, uses: map[bibstat.LibraryID]map[bibstat.Month]*libUses{}}
	for _, l := range libs {
		c.libs[l.ID] = l
		c.libOrder = append(c.libOrder, l.ID)
	}
	store := make([]libUses, 0, len(uses)) // never grown: pointers into it stay
	rats := make([]big.Rat, 0, len(uses))
	for _, u := range uses {
		if c.uses[u.Library] == nil {
			c.uses[u.Library] = make(map[bibstat.Month]*libUses, len(c.months))
		}
		lu := c.uses[u.Library][u.Month]
		if lu == nil {
			rats = append(rats, big.Rat{})
			store = append(store, libUses{pooled: &rats[len(rats)-1]})
			lu = &store[len(store)-1]
			c.uses[u.Library][u.Month] = lu
		}
		lu.own += u.Count
		if u.Pooled != nil {
			lu.pooled.Add(lu.pooled, u.Pooled)
		}
	}
	c.perMonth = new(big.Rat).Quo(a.PriceInclVAT(), big.NewRat(int64(a.Months()), 1))
	c.v = &Valuation{Agreement: a, First: first, Last: last, Months: len(c.months), PooledUses: new(big.Rat)}
	return c
}

// covered returns the libraries participant p stands for in month m. A
// library taking part on its own in m is not covered by its county.
func (c *calc) covered(p Participant, m bibstat.Month) []bibstat.LibraryID {
	if !p.ActiveIn(m) {
		return nil
	}
	if p.Library != "" {
		return []bibstat.LibraryID{p.Library}
	}
	var out []bibstat.LibraryID
	for _, id := range c.libOrder {
		if Covers(p.County, c.libs[id].County, m) && !c.ownParticipant(id, m) {
			out = append(out, id)
		}
	}
	return out
}

func (c *calc) ownParticipant(id bibstat.LibraryID, m bibstat.Month) bool {
	for _, q := range c.a.Participants {
		if q.Library == id && q.ActiveIn(m) {
			return true
		}
	}
	return false
}

func (c *calc) name(p Participant) string {
	if p.Library != "" {
		if l, ok := c.libs[p.Library]; ok && l.Name != "" {
			return l.Name
		}
		return string(p.Library)
	}
	if n, ok := formerCounties[p.County]; ok {
		return "county " + p.County + " " + n
	}
	if cty, ok := c.counties[p.County]; ok && cty.Name != "" {
		return "county " + p.County + " " + cty.Name
	}
	return "county " + p.County
}

func (c *calc) add(name, format string, args ...any) {
	c.v.Formulas = append(c.v.Formulas, Formula{name, fmt.Sprintf(format, args...)})
}

func (c *calc) run() *Valuation {
	a, v := c.a, c.v
	cost := c.cost()
	ps, pop := c.participants()
	exact := c.allocate(ps)
	amounts := append(exact, c.unallocated(ps, exact, cost))
	rounded := splitExact(amounts)
	for i := range ps {
		ps[i].Allocated = rounded[i]
	}
	v.Unallocated = rounded[len(ps)]

	// Totals.
	total := new(big.Rat).Add(big.NewRat(v.OwnUses, 1), v.PooledUses)
	v.Uses = roundRat(total)
	c.add("uses", "Σ %s over %s of the participants' libraries in their months (own: mart_library_month.count; pooled: their shares in mart_pool_allocation): %s",
		strings.Join(a.Metrics(), " + "), strings.Join(a.Platforms, ", "), usesText(v.OwnUses, v.PooledUses, v.HasData))
	v.CostPerUse = perUse(v.Cost, total, v.HasData)
	c.add("cost_per_use", "%s", quotientFormula("cost / uses", v.Cost, formatUses(total), v.CostPerUse))
	c.coverage(pop)
	c.add("libraries", "libraries covered by the participants in some month = %d", v.Libraries)
	if v.Unallocated != 0 {
		c.add("unallocated", "cost − Σ allocated = %s NOK: carried by no participant (months without participants, or nothing to allocate by)", v.Unallocated)
	}
	for i := range ps {
		pv := &ps[i]
		pv.CostPerUse = perUse(pv.Allocated, pv.uses, pv.HasData)
		pv.Formulas = append(pv.Formulas,
			Formula{"uses", fmt.Sprintf("Σ uses of its libraries (%d) in its months (%d): %s", pv.Libraries, pv.Months, usesText(pv.OwnUses, pv.PooledUses, pv.HasData))},
			Formula{"cost_per_use", quotientFormula("allocated / uses", pv.Allocated, formatUses(pv.uses), pv.CostPerUse)})
	}
	v.Participants = ps
	return v
}

// cost is the price of whole months in the valued period, with its
// formulas.
func (c *calc) cost() *big.Rat {
	a, v := c.a, c.v
	cost := new(big.Rat).Mul(c.perMonth, big.NewRat(int64(len(c.months)), 1))
	v.Cost = toMoney(cost)
	if a.VATIncluded {
		c.add("price_incl_vat", "price_nok (VAT included, rate %s) = %s NOK; excl. VAT %s NOK",
			ratShort(a.VATRate), ratNOK(a.Price), ratNOK(a.PriceExclVAT()))
	} else {
		c.add("price_incl_vat", "price_nok × (1 + vat_rate) = %s × (1 + %s) = %s NOK",
			ratNOK(a.Price), ratShort(a.VATRate), ratNOK(a.PriceInclVAT()))
	}
	c.add("price_per_month", "price_incl_vat / agreement_months = %s / %d = %s NOK",
		ratNOK(a.PriceInclVAT()), a.Months(), ratNOK(c.perMonth))
	c.add("cost", "price_per_month × months = %s × %d = %s NOK (%s–%s)",
		ratNOK(c.perMonth), len(c.months), v.Cost, v.First, v.Last)

	return cost
}

// participants are each participant's months, covered libraries, uses
// and population; pop is the inhabitants covered summed over months. It
// sets the valuation's uses and libraries.
func (c *calc) participants() (ps []ParticipantValue, pop popSum) {
	a, v := c.a, c.v
	ps = make([]ParticipantValue, len(a.Participants))
	allLibs := map[bibstat.LibraryID]bool{}
	pop = popSum{n: new(big.Int)}
	for i, p := range a.Participants {
		pv := &ps[i]
		pv.Participant, pv.Name, pv.PooledUses = p, c.name(p), new(big.Rat)
		libs := map[bibstat.LibraryID]bool{}
		own := popSum{n: new(big.Int)}
		for _, m := range c.months {
			if !p.ActiveIn(m) {
				continue
			}
			pv.Months++
			own.add(c.population(p, m))
			for _, id := range c.covered(p, m) {
				libs[id], allLibs[id] = true, true
				if u, ok := c.uses[id][m]; ok {
					pv.HasData = true
					pv.OwnUses += u.own
					pv.PooledUses.Add(pv.PooledUses, u.pooled)
				}
			}
		}
		pv.Libraries = len(libs)
		pv.uses = new(big.Rat).Add(big.NewRat(pv.OwnUses, 1), pv.PooledUses)
		pv.Uses = roundRat(pv.uses)
		pv.Population, pv.PopulationReason = own.average(pv.Months)
		pv.Formulas = append(pv.Formulas, Formula{"population", c.populationFormula(p, own, pv)})
		pop.merge(own)
		v.OwnUses += pv.OwnUses
		v.PooledUses.Add(v.PooledUses, pv.PooledUses)
		v.HasData = v.HasData || pv.HasData
	}
	v.Libraries = len(allLibs)

	return ps, pop
}

// perUse is cost per use, or why there is none.
func perUse(cost Money, uses *big.Rat, hasData bool) Quotient {
	switch {
	case !hasData:
		return Quotient{Reason: "no data"}
	case uses.Sign() == 0:
		return Quotient{Reason: "no uses"}
	}
	return Quotient{Value: new(big.Rat).Quo(big.NewRat(int64(cost), 100), uses)}
}

func quotientFormula(what string, num Money, den string, q Quotient) string {
	if !q.OK() {
		return fmt.Sprintf("%s = %s / %s: %s", what, num, den, q)
	}
	return fmt.Sprintf("%s = %s / %s = %s", what, num, den, q)
}

// usesText states own and pooled uses apart, then their sum: "own 372 +
// pooled share 2 229 = 2 601".
func usesText(own int64, pooled *big.Rat, hasData bool) string {
	if !hasData {
		return "no data harvested yet"
	}
	return fmt.Sprintf("own %s + pooled share %s = %s",
		formatInt(own), formatUses(pooled), formatUses(new(big.Rat).Add(big.NewRat(own, 1), pooled)))
}

// formatUses writes a number of uses: whole, or with up to two decimals for
// an allocated pool share ("2 228,5").
func formatUses(r *big.Rat) string {
	if r.IsInt() {
		return formatInt(r.Num().Int64())
	}
	s := ratDecimal(r, 2)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ",")
}
