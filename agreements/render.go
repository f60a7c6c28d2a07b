package agreements

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText prints a valuation for people: the figures, a table of the
// participants and, with explain, each figure's formula with its inputs.
func WriteText(w io.Writer, v *Valuation, explain bool) error {
	b := bufio.NewWriter(w)
	a := v.Agreement
	fmt.Fprintf(b, "Agreement %s: %s (vendor %s)\n", a.ID, a.Name, a.Vendor)
	fmt.Fprintf(b, "Platforms: %s. A use is %s (%s). Allocation: %s",
		strings.Join(a.Platforms, ", "), strings.Join(a.Metrics(), " + "), a.DataType, a.Model)
	if a.Model == ModelBasePopulation {
		fmt.Fprintf(b, ", base share %s", ratShort(a.BaseShare))
	}
	fmt.Fprintf(b, ".\nPeriod valued: %s–%s, %d of %d agreement months (%s–%s). Amounts in NOK incl. VAT.\n\n",
		v.First, v.Last, v.Months, a.Months(), a.From, a.To)

	formulas := map[string][]string{}
	for _, f := range v.Formulas {
		formulas[f.Name] = append(formulas[f.Name], f.Text)
	}
	figure := func(label, value string, names ...string) {
		fmt.Fprintf(b, "%-21s %s\n", label, value)
		if explain {
			for _, n := range names {
				for _, t := range formulas[n] {
					fmt.Fprintf(b, "    %s: %s\n", n, t)
				}
			}
		}
	}
	figure("cost", v.Cost.String()+" NOK", "price_incl_vat", "price_per_month", "cost")
	if v.HasData && v.PooledUses.Sign() != 0 {
		figure("uses", fmt.Sprintf("%s (own %s + pooled share %s)", formatInt(v.Uses), formatInt(v.OwnUses), formatUses(v.PooledUses)), "uses")
	} else if v.HasData {
		figure("uses", formatInt(v.Uses), "uses")
	} else {
		figure("uses", "no data harvested yet", "uses")
	}
	figure("cost per use", v.CostPerUse.String(), "cost_per_use")
	figure("population covered", populationText(v.Population, v.PopulationReason), "population_covered")
	figure("cost per inhabitant", v.CostPerInhabitant.String(), "cost_per_inhabitant")
	share := "no data"
	if v.PopulationShare != nil {
		share = fmt.Sprintf("%s of %s", percent(v.PopulationShare), formatInt(v.NationalPop))
	}
	figure("population share", share, "population_share")
	figure("libraries", fmt.Sprint(v.Libraries), "libraries")
	if v.Unallocated != 0 {
		figure("unallocated", v.Unallocated.String()+" NOK", "unallocated")
	}

	fmt.Fprintf(b, "\n%-44s %6s %9s %10s %14s %10s %14s\n", "participant", "months", "libraries", "population", "allocated NOK", "uses", "cost per use")
	for _, p := range v.Participants {
		uses := formatInt(p.Uses)
		if !p.HasData {
			uses = "no data"
		}
		alloc := p.Allocated.String()
		if p.Unallocated != "" {
			alloc = p.Unallocated
		}
		fmt.Fprintf(b, "%-44s %6d %9d %10s %14s %10s %14s\n", participantLabel(p), p.Months, p.Libraries,
			populationText(p.Population, p.PopulationReason), alloc, uses, p.CostPerUse)
	}
	if explain {
		for _, p := range v.Participants {
			fmt.Fprintf(b, "\n%s\n", participantLabel(p))
			for _, f := range p.Formulas {
				fmt.Fprintf(b, "    %s: %s\n", f.Name, f.Text)
			}
		}
	}
	return b.Flush()
}

func participantLabel(p ParticipantValue) string {
	if p.Participant.Library != "" {
		return fmt.Sprintf("%s (%s)", p.Name, p.Participant.Library)
	}
	return p.Name
}

// populationText is a number of inhabitants, or "not known" when the
// warehouse lacks it (the reason is in the formula).
func populationText(n int64, reason string) string {
	if reason != "" {
		return "not known"
	}
	return formatInt(n)
}
