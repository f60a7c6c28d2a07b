package agreements

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Library is what valuation needs to know of a library.
type Library struct {
	ID           bibstat.LibraryID
	Name         string
	Municipality string // 2024 municipality number
	County       string // the municipality's county in the 2024 structure
	Population   int64  // inhabitants served
}

// County is a county of the 2024 structure.
type County struct {
	Name       string
	Population int64
}

// Use is the uses of one library in one month, summed over an agreement's
// platforms and use metrics. A Use with Count 0 is harvested data that shows
// no use; a library-month without a Use has no harvested data.
type Use struct {
	Library bibstat.LibraryID
	Month   bibstat.Month
	Count   int64
}

// Source is what valuation reads from the warehouse.
type Source interface {
	// Libraries returns the library register with each library's 2024 county.
	Libraries(ctx context.Context) ([]Library, error)
	// Counties returns the counties of the 2024 structure with their inhabitants, by number.
	Counties(ctx context.Context) (map[string]County, error)
	// Uses returns uses per library and month on platforms, summing metrics, from first to last.
	Uses(ctx context.Context, platforms, metrics []string, first, last bibstat.Month) ([]Use, error)
}

// Quotient is a figure per use or per inhabitant: a Money, or the reason
// there is none ("no data", "no uses", "no inhabitants").
type Quotient struct {
	Value  Money
	Reason string // set when there is no value
}

// OK reports whether the quotient has a value.
func (q Quotient) OK() bool { return q.Reason == "" }

func (q Quotient) String() string {
	if !q.OK() {
		return q.Reason
	}
	return q.Value.String() + " NOK"
}

// Formula is one figure with how it was computed from its inputs.
type Formula struct {
	Name string // e.g. "cost_per_use"
	Text string // e.g. "cost / uses = 120 000,00 / 48 213 = 2,49 NOK"
}

// Valuation is what an agreement was worth over a period.
type Valuation struct {
	Agreement         Agreement
	First, Last       bibstat.Month // the months valued: the asked period within the agreement period
	Months            int
	Cost              Money // the price of the months valued, incl. VAT
	Unallocated       Money // cost of months without any participant
	HasData           bool  // some usage was harvested for a participant in the period
	Uses              int64
	CostPerUse        Quotient
	Population        int64 // inhabitants covered, averaged over the months valued
	CostPerInhabitant Quotient
	NationalPop       int64
	PopulationShare   *big.Rat // Population / NationalPop; nil when unknown
	Libraries         int      // libraries covered in some month of the period
	Participants      []ParticipantValue
	Formulas          []Formula // every figure's formula, in reading order
}

// ParticipantValue is one participant's part of a Valuation.
type ParticipantValue struct {
	Participant Participant
	Name        string // the library's name or "county 40"
	Months      int    // months taking part within the period
	Libraries   int    // libraries covered in some month of the period
	Population  int64  // inhabitants, averaged over its months
	Allocated   Money
	Unallocated string // why no cost could be allocated (usage model without uses), or ""
	HasData     bool
	Uses        int64
	CostPerUse  Quotient
	Formulas    []Formula
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

// calc holds the inputs of one valuation.
type calc struct {
	a           Agreement
	months      []bibstat.Month
	libs        map[bibstat.LibraryID]Library
	libOrder    []bibstat.LibraryID
	counties    map[string]County
	uses        map[bibstat.LibraryID]map[bibstat.Month]int64 // present = harvested
	perMonth    *big.Rat                                      // price incl. VAT / agreement months
	v           *Valuation
	explainRows []Formula
}

func newCalc(a Agreement, libs []Library, counties map[string]County, uses []Use, first, last bibstat.Month) *calc {
	c := &calc{a: a, months: bibstat.MonthsBetween(first, last), libs: map[bibstat.LibraryID]Library{},
		counties: counties, uses: map[bibstat.LibraryID]map[bibstat.Month]int64{}}
	for _, l := range libs {
		c.libs[l.ID] = l
		c.libOrder = append(c.libOrder, l.ID)
	}
	for _, u := range uses {
		if c.uses[u.Library] == nil {
			c.uses[u.Library] = map[bibstat.Month]int64{}
		}
		c.uses[u.Library][u.Month] += u.Count
	}
	c.perMonth = new(big.Rat).Quo(a.PriceInclVAT(), big.NewRat(int64(a.Months()), 1))
	c.v = &Valuation{Agreement: a, First: first, Last: last, Months: len(c.months)}
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

// population returns participant p's inhabitants in month m: a library's
// own, a county's from the municipalities it covers in that month.
func (c *calc) population(p Participant, m bibstat.Month) int64 {
	if p.Library != "" {
		return c.libs[p.Library].Population
	}
	var n int64
	for number, county := range c.counties {
		if Covers(p.County, number, m) {
			n += county.Population
		}
	}
	return n
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
	ps, popMonths := c.participants()
	exact := c.allocate(ps)
	amounts := append(exact, c.unallocated(ps, exact, cost))
	rounded := splitExact(amounts)
	for i := range ps {
		ps[i].Allocated = rounded[i]
	}
	v.Unallocated = rounded[len(ps)]

	// Totals.
	c.add("uses", "Σ %s over %s of the participants' libraries in their months = %s%s",
		strings.Join(a.Metrics(), " + "), strings.Join(a.Platforms, ", "), formatInt(v.Uses), noDataNote(v.HasData))
	v.CostPerUse = perUse(v.Cost, v.Uses, v.HasData)
	c.add("cost_per_use", "%s", quotientFormula("cost / uses", v.Cost, formatInt(v.Uses), v.CostPerUse))
	c.coverage(popMonths)
	c.add("libraries", "libraries covered by the participants in some month = %d", v.Libraries)
	if v.Unallocated != 0 {
		c.add("unallocated", "cost − Σ allocated = %s NOK: carried by no participant (months without participants, or nothing to allocate by)", v.Unallocated)
	}
	for i := range ps {
		pv := &ps[i]
		pv.CostPerUse = perUse(pv.Allocated, pv.Uses, pv.HasData)
		pv.Formulas = append(pv.Formulas,
			Formula{"uses", fmt.Sprintf("Σ uses of its libraries (%d) in its months (%d) = %s%s", pv.Libraries, pv.Months, formatInt(pv.Uses), noDataNote(pv.HasData))},
			Formula{"cost_per_use", quotientFormula("allocated / uses", pv.Allocated, formatInt(pv.Uses), pv.CostPerUse)})
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
// and population; popMonths is the inhabitants covered summed over months.
// It sets the valuation's uses and libraries.
func (c *calc) participants() (ps []ParticipantValue, popMonths *big.Int) {
	a, v := c.a, c.v
	ps = make([]ParticipantValue, len(a.Participants))
	allLibs := map[bibstat.LibraryID]bool{}
	popMonths = new(big.Int)
	for i, p := range a.Participants {
		pv := &ps[i]
		pv.Participant, pv.Name = p, c.name(p)
		libs := map[bibstat.LibraryID]bool{}
		var pm int64
		for _, m := range c.months {
			if !p.ActiveIn(m) {
				continue
			}
			pv.Months++
			pm += c.population(p, m)
			for _, id := range c.covered(p, m) {
				libs[id], allLibs[id] = true, true
				if n, ok := c.uses[id][m]; ok {
					pv.HasData = true
					pv.Uses += n
				}
			}
		}
		pv.Libraries = len(libs)
		popMonths.Add(popMonths, big.NewInt(pm))
		if pv.Months > 0 {
			pv.Population = roundRat(big.NewRat(pm, int64(pv.Months)))
		}
		v.Uses += pv.Uses
		v.HasData = v.HasData || pv.HasData
	}
	v.Libraries = len(allLibs)

	return ps, popMonths
}

// coverage is the population the agreement covers on average over the
// months, from popMonths, what it costs per inhabitant and its share of
// the nation's.
func (c *calc) coverage(popMonths *big.Int) {
	v := c.v
	months := int64(len(c.months))
	popAvg := new(big.Rat).SetFrac(popMonths, big.NewInt(months))
	v.Population = roundRat(popAvg)
	c.add("population_covered", "Σ participant inhabitants × months / months = %s / %d = %s",
		formatInt(popMonths.Int64()), months, formatInt(v.Population))
	if popAvg.Sign() > 0 {
		v.CostPerInhabitant = Quotient{Value: toMoney(new(big.Rat).Quo(big.NewRat(int64(v.Cost), 100), popAvg))}
	} else {
		v.CostPerInhabitant = Quotient{Reason: "no inhabitants covered"}
	}
	c.add("cost_per_inhabitant", "%s", quotientFormula("cost / population_covered", v.Cost, formatInt(v.Population), v.CostPerInhabitant))
	for _, cty := range c.counties {
		v.NationalPop += cty.Population
	}
	if v.NationalPop > 0 {
		v.PopulationShare = new(big.Rat).Quo(popAvg, big.NewRat(v.NationalPop, 1))
		c.add("population_share", "population_covered / population_of_norway = %s / %s = %s",
			formatInt(v.Population), formatInt(v.NationalPop), percent(v.PopulationShare))
	} else {
		c.add("population_share", "population_of_norway unknown: no data")
	}
}

// allocate returns each participant's exact share of the cost, adding
// formulas to ps.
func (c *calc) allocate(ps []ParticipantValue) []*big.Rat {
	out := make([]*big.Rat, len(ps))
	for i := range out {
		out[i] = new(big.Rat)
	}
	if c.a.Model == ModelUsage {
		return c.allocateByUse(ps, out)
	}
	// Monthly models: consecutive months with the same participants and
	// populations form a segment, so each formula reads as one line per segment.
	type segment struct {
		first, last bibstat.Month
		n           int
		active      []int
		pops        []int64
		total       int64
	}
	var segs []*segment
	for _, m := range c.months {
		s := &segment{first: m, last: m, n: 1}
		for i, p := range c.a.Participants {
			if p.ActiveIn(m) {
				pop := c.population(p, m)
				s.active, s.pops, s.total = append(s.active, i), append(s.pops, pop), s.total+pop
			}
		}
		if k := len(segs); k > 0 && slices.Equal(segs[k-1].active, s.active) && slices.Equal(segs[k-1].pops, s.pops) && segs[k-1].last.Add(1) == m {
			segs[k-1].last, segs[k-1].n = m, segs[k-1].n+1
			continue
		}
		segs = append(segs, s)
	}
	lines := make([][]string, len(ps))
	for _, s := range segs {
		if len(s.active) == 0 {
			continue
		}
		segCost := new(big.Rat).Mul(c.perMonth, big.NewRat(int64(s.n), 1))
		n := int64(len(s.active))
		for k, i := range s.active {
			var share *big.Rat
			var how string
			popShare := func() *big.Rat {
				if s.total == 0 { // no inhabitants known: equal shares rather than division by zero
					return big.NewRat(1, n)
				}
				return big.NewRat(s.pops[k], s.total)
			}
			popText := fmt.Sprintf("%s / %s", formatInt(s.pops[k]), formatInt(s.total))
			switch c.a.Model {
			case ModelFlat:
				share, how = big.NewRat(1, n), fmt.Sprintf("1 / %d", n)
			case ModelPopulation:
				share, how = popShare(), popText
			case ModelBasePopulation:
				b := c.a.BaseShare
				rest := new(big.Rat).Sub(big.NewRat(1, 1), b)
				share = new(big.Rat).Add(new(big.Rat).Quo(b, big.NewRat(n, 1)), new(big.Rat).Mul(rest, popShare()))
				how = fmt.Sprintf("(%s / %d + %s × %s)", ratShort(b), n, ratShort(rest), popText)
			}
			amount := new(big.Rat).Mul(segCost, share)
			out[i].Add(out[i], amount)
			lines[i] = append(lines[i], fmt.Sprintf("%s–%s: %s × %d × %s = %s",
				s.first, s.last, ratNOK(c.perMonth), s.n, how, ratNOK(amount)))
		}
	}
	for i := range ps {
		text := "not taking part in the period = 0,00 NOK"
		if len(lines[i]) > 0 {
			text = fmt.Sprintf("price_per_month × months × share (%s) = %s = %s NOK",
				c.a.Model, strings.Join(lines[i], "; "), ratNOK(out[i]))
		}
		ps[i].Formulas = append(ps[i].Formulas, Formula{"allocated", text})
	}
	return out
}

// allocateByUse splits the cost of the months with participants by each
// participant's uses in its own months.
func (c *calc) allocateByUse(ps []ParticipantValue, out []*big.Rat) []*big.Rat {
	var months int64
	for _, m := range c.months {
		for _, p := range c.a.Participants {
			if p.ActiveIn(m) {
				months++
				break
			}
		}
	}
	cost := new(big.Rat).Mul(c.perMonth, big.NewRat(months, 1))
	var total int64
	for _, pv := range ps {
		total += pv.Uses
	}
	for i := range ps {
		if total == 0 {
			reason := "no uses"
			if !c.v.HasData {
				reason = "no data"
			}
			ps[i].Unallocated = reason
			ps[i].Formulas = append(ps[i].Formulas, Formula{"allocated",
				fmt.Sprintf("cost × own_uses / uses: %s, nothing can be allocated by usage", reason)})
			continue
		}
		out[i] = new(big.Rat).Mul(cost, big.NewRat(ps[i].Uses, total))
		ps[i].Formulas = append(ps[i].Formulas, Formula{"allocated",
			fmt.Sprintf("cost_of_months_with_participants × own_uses / uses = %s × %s / %s = %s NOK",
				ratNOK(cost), formatInt(ps[i].Uses), formatInt(total), ratNOK(out[i]))})
	}
	return out
}

// unallocated is the part of cost no participant carries.
func (c *calc) unallocated(ps []ParticipantValue, exact []*big.Rat, cost *big.Rat) *big.Rat {
	rest := new(big.Rat).Set(cost)
	for _, e := range exact {
		rest.Sub(rest, e)
	}
	return rest
}

func perUse(cost Money, uses int64, hasData bool) Quotient {
	switch {
	case !hasData:
		return Quotient{Reason: "no data"}
	case uses == 0:
		return Quotient{Reason: "no uses"}
	}
	return Quotient{Value: toMoney(big.NewRat(int64(cost), 100*uses))}
}

func quotientFormula(what string, num Money, den string, q Quotient) string {
	if !q.OK() {
		return fmt.Sprintf("%s = %s / %s: %s", what, num, den, q.Reason)
	}
	return fmt.Sprintf("%s = %s / %s = %s", what, num, den, q)
}

func noDataNote(has bool) string {
	if has {
		return ""
	}
	return " (no data harvested yet)"
}
