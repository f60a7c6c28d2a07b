package counter

import (
	"fmt"
	"math"
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

// parseCount reads a count cell: empty is 0 (COUNTER's rule for a
// missing value), thousands separators and quotes are tolerated ("1,000",
// "1 000"), and "12.0" is 12 because spreadsheets write that. Anything
// else that is not a whole non-negative number ("x2", "-3", "1.5", "n/a")
// is ErrNotACount, and a number past int64 (or past a float's exact
// integers) is ErrOverflow: a bad cell is never read as 0.
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
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, ErrOverflow
		}
		return n, nil
	}
	// "12.0" is a spreadsheet's whole number; "1.000" is not taken for
	// one, since in a ;-separated file it is a thousand.
	if whole, frac, ok := strings.Cut(s, "."); ok && isDigits(whole) && strings.Trim(frac, "0") == "" && len(frac) != 3 {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, ErrOverflow
		}
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1<<53 && f == math.Trunc(f) && !math.IsInf(f, 0) {
		return 0, ErrOverflow // "1e18": whole, but past what a float holds exactly
	}
	return 0, ErrNotACount
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

// monthNames are the English, Norwegian (bokmål and nynorsk share them)
// and German month names and their usual abbreviations, lower case,
// without a trailing dot. The list is closed: a word is a month only if it
// is here, never because it begins like one ("Description 2024",
// "Marsvin 2024"), since a heading taken for a month puts usage in it.
var monthNames = map[string]time.Month{
	"january": 1, "januar": 1, "jänner": 1, "jan": 1, "jän": 1,
	"february": 2, "februar": 2, "feb": 2, "febr": 2,
	"march": 3, "mars": 3, "märz": 3, "maerz": 3, "mar": 3, "mrz": 3, "mär": 3,
	"april": 4, "apr": 4,
	"may": 5, "mai": 5,
	"june": 6, "juni": 6, "jun": 6,
	"july": 7, "juli": 7, "jul": 7,
	"august": 8, "aug": 8,
	"september": 9, "sept": 9, "sep": 9,
	"october": 10, "oktober": 10, "oct": 10, "okt": 10,
	"november": 11, "nov": 11,
	"december": 12, "desember": 12, "dezember": 12, "dec": 12, "des": 12, "dez": 12,
}

// MonthName maps a month's name or abbreviation in English, Norwegian or
// German, in any case and with or without a trailing dot, to the month:
// "Jan", "januar", "Mrz.", "Desember", "Sept".
func MonthName(s string) (time.Month, bool) {
	m, ok := monthNames[strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))]
	return m, ok
}

var (
	reWordYear  = regexp.MustCompile(`^(\pL+)\.?[-\s/.]*(\d{2}|\d{4})$`)             // Jan-2022, Jan-22, Mrz 2022, jan. 2025, jan25
	reYearWord  = regexp.MustCompile(`^(?:(\d{2})[-\s/]|(\d{4})[-\s/.]*)(\pL+)\.?$`) // 22-Jan (Excel-mangled), 2025 mai
	reYearMonth = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[Tt ].*)?$`)
	reMonthYear = regexp.MustCompile(`^(?:\d{1,2}[./-])?(\d{1,2})[./-](\d{4})$`) // 4-2011, 01.2025, 15.01.2025 (day first)
	reSerial    = regexp.MustCompile(`^\d{5}(?:\.0+)?$`)                         // Excel date serial
)

// ParseMonth reads a month in any of the forms vendors write one, as a
// column heading or a cell: Jan-2022, January 2022, Jan-22, 22-Jan, 2022
// januar, 2022-01, 2022/1, 2022-01-15T00:00:00, 4-2011, 01.2025,
// 15.01.2025, Mrz-2022, or an Excel date serial such as 44562. Two-digit
// years are this century's; years before 1990 or after 2200 are no
// usage month.
func ParseMonth(s string) (bibstat.Month, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 4 {
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
		if m, found := MonthName(g[1]); found {
			return ok(year(g[2]), m)
		}
	}
	if g := reYearWord.FindStringSubmatch(s); g != nil {
		if m, found := MonthName(g[3]); found {
			return ok(year(g[1]+g[2]), m)
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
		m := SerialMonth(f)
		return ok(m.Year, m.Mon)
	}
	return bibstat.Month{}, false
}

// SerialMonth is the month of an Excel date serial.
func SerialMonth(serial float64) bibstat.Month {
	// Serial 1 is 1900-01-01, and Excel counts a 29 February 1900 that
	// never was; for every later serial day 0 is 1899-12-30.
	t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(serial))
	return bibstat.MonthOf(t)
}

var reDate = regexp.MustCompile(`\d{4}-\d{1,2}`)

// parsePeriod reads a tabular Reporting_Period in either form,
// "Begin_Date=2022-01-01; End_Date=2022-12-31" or "2017-01-01 to 2017-06-30".
func parsePeriod(s string) (begin, end bibstat.Month, ok bool) {
	ds := reDate.FindAllString(s, -1)
	if len(ds) < 2 {
		return begin, end, false
	}
	b, ok1 := ParseMonth(ds[0])
	e, ok2 := ParseMonth(ds[len(ds)-1])
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
	"allcollections": true, "totalforallcollections": true,
}

func isSummary(s string) bool {
	return len(s) < 40 && !notSummary(s) && summaryNames[strings.ReplaceAll(norm(s), "/", "")]
}

// notSummary says, without norm's copy, that s cannot be a summary name:
// it holds an ASCII byte that norm neither drops nor lowercases into a
// letter (a digit, a full stop), and every summary name is letters only.
// It is asked for every data row's title, and most titles hold one.
func notSummary(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c >= 0x80:
		case c == ' ', c == '_', c == '-', c == ':', c == '\t', c == '/':
		default:
			return true
		}
	}
	return false
}
