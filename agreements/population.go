package agreements

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Inhabitants are read, never computed here: a library's from the
// warehouse's library_population (its own figure, or its municipality's,
// summed over the successors of a split one), a county's from
// population_by_year over its municipalities, as the marts read them. A
// figure the warehouse lacks is not known, and every figure built on it
// says so rather than counting it as 0.

// popSum is inhabitants summed over months, or why they are not known.
type popSum struct {
	n      *big.Int
	reason string // the first figure not known, or ""
}

func (s *popSum) add(n int64, reason string) {
	if reason != "" {
		if s.reason == "" {
			s.reason = reason
		}
		return
	}
	s.n.Add(s.n, big.NewInt(n))
}

func (s *popSum) merge(o popSum) {
	s.add(0, o.reason)
	s.n.Add(s.n, o.n)
}

// average is the sum over months divided by months, rounded, or why it is not known.
func (s popSum) average(months int) (int64, string) {
	if s.reason != "" {
		return 0, s.reason
	}
	if months == 0 {
		return 0, ""
	}
	return roundRat(new(big.Rat).SetFrac(s.n, big.NewInt(int64(months)))), ""
}

// libPopulation is library id's inhabitants in month m's year.
func (c *calc) libPopulation(id bibstat.LibraryID, m bibstat.Month) (int64, string) {
	l, ok := c.libs[id]
	if !ok {
		return 0, fmt.Sprintf("library %s is not in the register", id)
	}
	n, ok := l.Population[m.Year]
	if !ok {
		return 0, fmt.Sprintf("inhabitants of library %s in %d not known (library_population)", id, m.Year)
	}
	return n, ""
}

// population returns participant p's inhabitants in month m, or why they
// are not known: a library's own; a county's from the counties it covers in
// that month, less the inhabitants of its libraries that take part on
// their own in m, whose participation counts them.
func (c *calc) population(p Participant, m bibstat.Month) (int64, string) {
	if p.Library != "" {
		return c.libPopulation(p.Library, m)
	}
	var n int64
	var found bool
	for _, number := range slices.Sorted(maps.Keys(c.counties)) {
		if !Covers(p.County, number, m) {
			continue
		}
		k, ok := c.counties[number].Population[m.Year]
		if !ok {
			return 0, fmt.Sprintf("inhabitants of county %s in %d not known (population_by_year)", number, m.Year)
		}
		n, found = n+k, true
	}
	if !found {
		return 0, fmt.Sprintf("no municipality of county %s in the warehouse", p.County)
	}
	for _, id := range c.ownParticipants(p, m) {
		k, why := c.libPopulation(id, m)
		if why != "" {
			return 0, why
		}
		n -= k
	}
	return n, ""
}

// ownParticipants are the libraries of county participant p that take part
// on their own in month m.
func (c *calc) ownParticipants(p Participant, m bibstat.Month) []bibstat.LibraryID {
	var out []bibstat.LibraryID
	for _, id := range c.libOrder {
		if Covers(p.County, c.libs[id].County, m) && c.ownParticipant(id, m) {
			out = append(out, id)
		}
	}
	return out
}

// populationFormula says where participant p's inhabitants came from.
func (c *calc) populationFormula(p Participant, sum popSum, pv *ParticipantValue) string {
	if pv.PopulationReason != "" {
		return "not known: " + pv.PopulationReason
	}
	what := "inhabitants served (library_population)"
	if p.County == "" {
		return fmt.Sprintf("%s × months / months = %s / %d = %s", what, formatInt(sum.n.Int64()), pv.Months, formatInt(pv.Population))
	}
	what = "the county's inhabitants (population_by_year of its municipalities)"
	var own []string
	for _, m := range c.months {
		if p.ActiveIn(m) {
			for _, id := range c.ownParticipants(p, m) {
				if !slices.Contains(own, string(id)) {
					own = append(own, string(id))
				}
			}
		}
	}
	if len(own) > 0 {
		what += " less those of " + strings.Join(own, ", ") + ", taking part on their own"
	}
	return fmt.Sprintf("%s × months / months = %s / %d = %s", what, formatInt(sum.n.Int64()), pv.Months, formatInt(pv.Population))
}

// national is Norway's inhabitants in month m: every county's.
func (c *calc) national(m bibstat.Month) (int64, bool) {
	var n int64
	for _, cty := range c.counties {
		k, ok := cty.Population[m.Year]
		if !ok {
			return 0, false
		}
		n += k
	}
	return n, len(c.counties) > 0
}

// coverage is the population the agreement covers on average over the
// months, from pop, what it costs per inhabitant and its share of the
// nation's.
func (c *calc) coverage(pop popSum) {
	v := c.v
	months := int64(len(c.months))
	var popAvg *big.Rat
	if pop.reason != "" {
		v.PopulationReason = pop.reason
		v.CostPerInhabitant = Quotient{Reason: "no data"}
		c.add("population_covered", "not known: %s", pop.reason)
		c.add("cost_per_inhabitant", "cost / population_covered: population not known: no data")
	} else {
		popAvg = new(big.Rat).SetFrac(pop.n, big.NewInt(months))
		v.Population = roundRat(popAvg)
		c.add("population_covered", "Σ participant inhabitants × months / months = %s / %d = %s",
			formatInt(pop.n.Int64()), months, formatInt(v.Population))
		if popAvg.Sign() > 0 {
			v.CostPerInhabitant = Quotient{Value: new(big.Rat).Quo(big.NewRat(int64(v.Cost), 100), popAvg)}
		} else {
			v.CostPerInhabitant = Quotient{Reason: "no inhabitants"}
		}
		c.add("cost_per_inhabitant", "%s", quotientFormula("cost / population_covered", v.Cost, formatInt(v.Population), v.CostPerInhabitant))
	}
	nat := new(big.Int)
	for _, m := range c.months {
		n, ok := c.national(m)
		if !ok {
			c.add("population_share", "population_of_norway in %d not known: no data", m.Year)
			return
		}
		nat.Add(nat, big.NewInt(n))
	}
	natAvg := new(big.Rat).SetFrac(nat, big.NewInt(months))
	v.NationalPop = roundRat(natAvg)
	if popAvg == nil || natAvg.Sign() == 0 {
		c.add("population_share", "population_covered / population_of_norway: no data")
		return
	}
	v.PopulationShare = new(big.Rat).Quo(popAvg, natAvg)
	c.add("population_share", "population_covered / population_of_norway = %s / %s = %s",
		formatInt(v.Population), formatInt(v.NationalPop), percent(v.PopulationShare))
}
