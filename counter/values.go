package counter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// supportedRelease checks a Release value, normalising "5.0"-style spellings.
func supportedRelease(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "5", "5.0", "5.0.1", "5.0.2", "5.0.3", "R5":
		return "5", nil
	case "5.1", "5.1.0", "5.1.0.1", "R5.1":
		return "5.1", nil
	case "4", "R4":
		return "4", nil
	}
	return "", fmt.Errorf("release %q is not supported (want 4, 5 or 5.1)", s)
}

// parseCount reads a count cell: empty is 0, thousands separators and
// quotes are tolerated, and "12.0" is 12 because spreadsheets write that.
func parseCount(b []byte) (int64, error) {
	// Fast path: plain digits, which is nearly every cell.
	if len(b) > 0 && len(b) < 19 {
		var n int64
		ok := true
		for _, c := range b {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			return n, nil
		}
	}
	s := strings.TrimSpace(string(b))
	s = strings.Trim(s, `"'`)
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "'", "").Replace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative count %q", string(b))
		}
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1<<53 && f == float64(int64(f)) {
		return int64(f), nil
	}
	return 0, fmt.Errorf("count %q is not a whole number", string(b))
}

// parseYOP reads a year of publication; "" means none.
func parseYOP(s string) (int32, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 9999 {
		return 0, false, fmt.Errorf("YOP %q is not a year", s)
	}
	return int32(n), true, nil
}

var monthNames = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "mrz": 3, "mär": 3, "apr": 4, "may": 5, "mai": 5,
	"jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11,
	"dec": 12, "dez": 12, "des": 12,
}

// monthName maps an English, German or Norwegian month name or abbreviation.
func monthName(s string) (time.Month, bool) {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if m, ok := monthNames[s]; ok {
		return m, true
	}
	r := []rune(s)
	if len(r) > 3 {
		if m, ok := monthNames[string(r[:3])]; ok {
			return m, true
		}
	}
	return 0, false
}

var (
	reWordYear  = regexp.MustCompile(`^(\pL+\.?)[-\s/]+(\d{2}|\d{4})$`) // Jan-2022, Jan-22, Mrz 2022
	reYearWord  = regexp.MustCompile(`^(\d{2})[-\s/](\pL+)$`)           // 22-Jan (Excel-mangled)
	reYearMonth = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})(?:[-/]\d{1,2})?(?:[T ].*)?$`)
	reMonthYear = regexp.MustCompile(`^(\d{1,2})[-/](\d{4})$`) // 4-2011
	reSerial    = regexp.MustCompile(`^\d{5}(?:\.0+)?$`)       // Excel date serial
)

// parseMonthHeading reads a month column heading in any of the forms
// vendors use: Jan-2022, 2022-01, Jan-22, 22-Jan, 4-2011, Mrz-2022 or an
// Excel date serial such as 44562.
func parseMonthHeading(s string) (bibstat.Month, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 4 || len(s) > 40 {
		return bibstat.Month{}, false
	}
	year := func(y string) int {
		n, _ := strconv.Atoi(y)
		if len(y) == 2 {
			n += 2000
		}
		return n
	}
	ok := func(y int, m time.Month) (bibstat.Month, bool) {
		if y < 1990 || y > 2200 || m < 1 || m > 12 {
			return bibstat.Month{}, false
		}
		return bibstat.Month{Year: y, Mon: m}, true
	}
	if g := reWordYear.FindStringSubmatch(s); g != nil {
		if m, found := monthName(g[1]); found {
			return ok(year(g[2]), m)
		}
	}
	if g := reYearWord.FindStringSubmatch(s); g != nil {
		if m, found := monthName(g[2]); found {
			return ok(year(g[1]), m)
		}
	}
	if g := reYearMonth.FindStringSubmatch(s); g != nil {
		m, _ := strconv.Atoi(g[2])
		return ok(year(g[1]), time.Month(m))
	}
	if g := reMonthYear.FindStringSubmatch(s); g != nil {
		m, _ := strconv.Atoi(g[1])
		return ok(year(g[2]), time.Month(m))
	}
	if reSerial.MatchString(s) {
		f, _ := strconv.ParseFloat(s, 64)
		// Excel's day 0 is 1899-12-30 once its 1900 leap-year bug is accounted for.
		t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(f))
		return ok(t.Year(), t.Month())
	}
	return bibstat.Month{}, false
}

var reDate = regexp.MustCompile(`\d{4}-\d{1,2}`)

// parsePeriod reads a tabular Reporting_Period in either form,
// "Begin_Date=2022-01-01; End_Date=2022-12-31" or "2017-01-01 to 2017-06-30".
func parsePeriod(s string) (begin, end bibstat.Month, ok bool) {
	ds := reDate.FindAllString(s, -1)
	if len(ds) < 2 {
		return begin, end, false
	}
	b, ok1 := parseMonthHeading(ds[0])
	e, ok2 := parseMonthHeading(ds[len(ds)-1])
	if !ok1 || !ok2 || e.Before(b) {
		return begin, end, false
	}
	return b, e, true
}

// dateMonth reads the month of a JSON date such as "2022-01-01" or "2022-01".
func dateMonth(s string) (bibstat.Month, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 7 {
		return bibstat.Month{}, false
	}
	m, err := bibstat.ParseMonth(s[:7])
	return m, err == nil
}

// norm folds a column heading or header label for matching: lower case,
// without spaces, underscores, hyphens or a trailing colon, so that
// "Reporting_ Period_Total", "Reporting Period Total" and
// "reporting_period_total" are one name.
func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '_', '-', ':', '\t', '\ufeff', '\u00a0':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// summaryNames are the names vendors give totals rows. Such rows repeat the
// other rows' usage and are never counted.
var summaryNames = map[string]bool{
	"total": true, "totals": true, "all": true, "alltotal": true, "grandtotal": true,
	"allplatforms": true, "alldatabases": true, "alltitles": true, "alljournals": true, "allbooks": true, "allitems": true,
	"totalforalljournals": true, "totalforalltitles": true, "totalforalldatabases": true,
	"totalforallplatforms": true, "totalforallbooks": true, "totalforallitems": true,
}

func isSummary(s string) bool {
	return len(s) < 40 && summaryNames[strings.ReplaceAll(norm(s), "/", "")]
}
