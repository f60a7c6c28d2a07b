package agreements

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
)

// The county reform of 1 January 2024 split three counties. A municipality's
// county is kept in the 2024 structure (the warehouse's municipalities
// table); CountyAt turns it into the county of a month's own structure. No
// municipality changed county in 2024 other than by these splits, which
// TestCountyAtMatchesReference checks against the 2023→2024 mapping.
var (
	reform = bibstat.Month{Year: 2024, Mon: time.January}

	// predecessor maps each county created in 2024 to the 2020–2023 county it came from.
	predecessor = map[string]string{
		"31": "30", "32": "30", "33": "30", // Viken → Østfold, Akershus, Buskerud
		"39": "38", "40": "38", // Vestfold og Telemark → Vestfold, Telemark
		"55": "54", "56": "54", // Troms og Finnmark → Troms, Finnmark
	}

	// formerCounties are the 2020–2023 counties that no longer exist, with their names.
	formerCounties = map[string]string{"30": "Viken", "38": "Vestfold og Telemark", "54": "Troms og Finnmark"}
)

// CountyAt returns the county that a municipality of 2024 county c24
// belonged to in month m: before 2024, the old county of a split one.
func CountyAt(c24 string, m bibstat.Month) string {
	if m.Before(reform) {
		if old, ok := predecessor[c24]; ok {
			return old
		}
	}
	return c24
}

// Covers reports whether a county participant given as code covers, in month
// m, a library in a municipality of 2024 county c24. The code is read in the
// month's structure; a 2020–2023 county that was split keeps standing for
// its successors after the reform, so an agreement made with Viken in 2023
// still covers Østfold, Akershus and Buskerud in 2024. Parse rejects both a
// former county's participation after 2023 and a 2024 county's before 2024;
// the rule stays for registries imported before it did.
func Covers(code, c24 string, m bibstat.Month) bool {
	if CountyAt(c24, m) == code {
		return true
	}
	return !m.Before(reform) && predecessor[c24] == code
}

// countyGap returns the first month from joined to left in which county code
// did not exist, with why, or a zero month when it existed in every one. A
// county dissolved in 2024 takes no part after it: its successors do.
func countyGap(code string, joined, left bibstat.Month) (bibstat.Month, string) {
	if name, former := formerCounties[code]; former {
		if left.Before(reform) {
			return bibstat.Month{}, ""
		}
		first := joined
		if first.Before(reform) {
			first = reform
		}
		return first, fmt.Sprintf("county %s (%s) did not exist in %s: dissolved 1 January 2024, succeeded by %s",
			code, name, first, successorText(code))
	}
	if old, created := predecessor[code]; created && joined.Before(reform) {
		return joined, fmt.Sprintf("county %s (%s) did not exist in %s: created 1 January 2024 from county %s (%s)",
			code, countyName(code), joined, old, formerCounties[old])
	}
	return bibstat.Month{}, ""
}

// successorText names the 2024 counties of a dissolved one: "39 Vestfold and 40 Telemark".
func successorText(former string) string {
	var out []string
	for c24, old := range predecessor {
		if old == former {
			out = append(out, c24)
		}
	}
	slices.Sort(out)
	for i, c := range out {
		out[i] = c + " " + countyName(c)
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// countyName is a county's name in the reference data, or its former name.
func countyName(code string) string {
	if name, ok := formerCounties[code]; ok {
		return name
	}
	munis, _ := referenceMunicipalities()
	for _, m := range munis {
		if m.County == code {
			return m.CountyName
		}
	}
	return "?"
}

var referenceMunicipalities = sync.OnceValues(reference.Municipalities)

// goneMunicipalities maps each 2020–2023 municipality code that no 2024
// municipality has to its name and its 2024 successors.
var goneMunicipalities = sync.OnceValues(func() (map[string][]string, error) {
	now, err := referenceMunicipalities()
	if err != nil {
		return nil, err
	}
	succ, err := reference.Successors()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, s := range succ {
		if _, still := now[s.From]; !still {
			if len(out[s.From]) == 0 {
				out[s.From] = []string{s.FromName}
			}
			out[s.From] = append(out[s.From], s.To+" "+now[s.To].Name)
		}
	}
	return out, nil
})

// municipalityGap returns the first month from joined to left in which
// municipality code did not exist, with why, or a zero month. Only codes
// given up in 2024 can be missing: the register names current ones.
func municipalityGap(code string, joined, left bibstat.Month) (bibstat.Month, string) {
	gone, err := goneMunicipalities()
	if err != nil || left.Before(reform) || len(gone[code]) == 0 {
		return bibstat.Month{}, ""
	}
	first := joined
	if first.Before(reform) {
		first = reform
	}
	return first, fmt.Sprintf("municipality %s (%s) did not exist in %s: succeeded by %s; correct the library register",
		code, gone[code][0], first, strings.Join(gone[code][1:], " and "))
}
