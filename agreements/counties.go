package agreements

import (
	"time"

	"github.com/bibliotek24/bibstat"
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
// still covers Østfold, Akershus and Buskerud in 2024. A 2024 county code
// covers nothing before 2024 (Validate rejects such a participation).
func Covers(code, c24 string, m bibstat.Month) bool {
	if CountyAt(c24, m) == code {
		return true
	}
	return !m.Before(reform) && predecessor[c24] == code
}

// countyExistsAt reports whether code is a county in month m's structure or a
// former county that stands for its successors.
func countyExistsAt(code string, m bibstat.Month) bool {
	if _, former := formerCounties[code]; former {
		return true
	}
	_, created2024 := predecessor[code]
	return !created2024 || !m.Before(reform)
}
