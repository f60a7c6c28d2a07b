package agreements

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

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
	lines := make([][]string, len(ps))
	for _, s := range c.segments() {
		if len(s.active) == 0 {
			continue
		}
		segCost := new(big.Rat).Mul(c.perMonth, big.NewRat(int64(s.n), 1))
		if why := s.unknown(); why != "" && c.a.Model != ModelFlat {
			// Shares by inhabitants need every participant's: without
			// them the segment's cost stays unallocated, and says why.
			for _, ap := range s.active {
				lines[ap.i] = append(lines[ap.i], fmt.Sprintf("%s–%s: not allocated, %s", s.first, s.last, why))
			}
			continue
		}
		for _, ap := range s.active {
			share, how := c.share(s, ap)
			amount := new(big.Rat).Mul(segCost, share)
			out[ap.i].Add(out[ap.i], amount)
			lines[ap.i] = append(lines[ap.i], fmt.Sprintf("%s–%s: %s × %d × %s = %s",
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

// activePop is one participant of a segment with its inhabitants, or why
// they are not known.
type activePop struct {
	i   int
	pop int64
	why string
}

// segment is consecutive months with the same participants and
// populations, so that each formula reads as one line per segment.
type segment struct {
	first, last bibstat.Month
	n           int
	active      []activePop
	total       int64
}

func (s *segment) unknown() string {
	for _, ap := range s.active {
		if ap.why != "" {
			return ap.why
		}
	}
	return ""
}

func (c *calc) segments() []*segment {
	var segs []*segment
	for _, m := range c.months {
		s := &segment{first: m, last: m, n: 1}
		for i, p := range c.a.Participants {
			if p.ActiveIn(m) {
				pop, why := c.population(p, m)
				s.active, s.total = append(s.active, activePop{i, pop, why}), s.total+pop
			}
		}
		if k := len(segs); k > 0 && slices.Equal(segs[k-1].active, s.active) && segs[k-1].last.Add(1) == m {
			segs[k-1].last, segs[k-1].n = m, segs[k-1].n+1
			continue
		}
		segs = append(segs, s)
	}
	return segs
}

// share is participant ap's share of segment s's cost under the
// agreement's monthly model, and how it was found.
func (c *calc) share(s *segment, ap activePop) (*big.Rat, string) {
	n := int64(len(s.active))
	popShare := big.NewRat(1, n) // no inhabitants known: equal shares rather than division by zero
	if s.total != 0 {
		popShare = big.NewRat(ap.pop, s.total)
	}
	popText := fmt.Sprintf("%s / %s", formatInt(ap.pop), formatInt(s.total))
	switch c.a.Model {
	case ModelPopulation:
		return popShare, popText
	case ModelBasePopulation:
		b := c.a.BaseShare
		rest := new(big.Rat).Sub(big.NewRat(1, 1), b)
		share := new(big.Rat).Add(new(big.Rat).Quo(b, big.NewRat(n, 1)), new(big.Rat).Mul(rest, popShare))
		return share, fmt.Sprintf("(%s / %d + %s × %s)", ratShort(b), n, ratShort(rest), popText)
	}
	return big.NewRat(1, n), fmt.Sprintf("1 / %d", n)
}

// allocateByUse splits the cost of the months with participants by each
// participant's uses (own and pooled) in its own months.
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
	total := new(big.Rat)
	for _, pv := range ps {
		total.Add(total, pv.uses)
	}
	for i := range ps {
		if total.Sign() == 0 {
			reason := "no uses"
			if !c.v.HasData {
				reason = "no data"
			}
			ps[i].Unallocated = reason
			ps[i].Formulas = append(ps[i].Formulas, Formula{"allocated",
				fmt.Sprintf("cost × its_uses / uses: %s, nothing can be allocated by usage", reason)})
			continue
		}
		out[i] = new(big.Rat).Mul(cost, new(big.Rat).Quo(ps[i].uses, total))
		ps[i].Formulas = append(ps[i].Formulas, Formula{"allocated",
			fmt.Sprintf("cost_of_months_with_participants × its_uses / uses = %s × %s / %s = %s NOK",
				ratNOK(cost), formatUses(ps[i].uses), formatUses(total), ratNOK(out[i]))})
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
