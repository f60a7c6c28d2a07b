package mapping

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Excel date serials of plausible usage months (1954–2119). A five-digit
// whole number in this range is a date serial, not a year or a count.
const minSerial, maxSerial = 20000, 80000

// parseMonth reads the month of a cell in any of the layouts vendors use
// (counter.ParseMonth's). year is used when the cell names a month without
// a year ("januar") or is a month number; 0 means the cell must carry its
// own year. numeric says the cell is a spreadsheet number, which for a
// month can only be a date serial.
func parseMonth(s string, year int, numeric bool) (bibstat.Month, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return bibstat.Month{}, fmt.Errorf("month %q: no month", s)
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil && (numeric || !strings.ContainsAny(t, ".,")) {
		if f >= minSerial && f < maxSerial {
			m := counter.SerialMonth(f)
			return monthOf(s, m.Year, int(m.Mon))
		}
		if !numeric && year > 0 && f >= 1 && f <= 12 && f == math.Trunc(f) {
			return monthOf(s, year, int(f))
		}
		return bibstat.Month{}, fmt.Errorf("month %q: a number, not a date", s)
	}
	if m, ok := counter.ParseMonth(t); ok {
		return monthOf(s, m.Year, int(m.Mon))
	}
	if mon, ok := counter.MonthName(t); ok {
		if year == 0 {
			return bibstat.Month{}, fmt.Errorf("month %q has no year (set month.year in the mapping)", s)
		}
		return monthOf(s, year, int(mon))
	}
	return bibstat.Month{}, fmt.Errorf("month %q: not a month", s)
}

// isMonthHeader reports whether a header cell names a month, so that a wide
// sheet's month columns are found without listing them.
func isMonthHeader(s string, year int) (bibstat.Month, bool) {
	t := strings.TrimSpace(s)
	if t == "" {
		return bibstat.Month{}, false
	}
	if _, err := strconv.Atoi(t); err == nil {
		return bibstat.Month{}, false // "2025" or "12" is not a month column
	}
	m, err := parseMonth(t, year, false)
	return m, err == nil
}

// monthOf checks that y-m is a plausible usage month of cell s.
func monthOf(s string, y, m int) (bibstat.Month, error) {
	if y < 1990 || y > 2100 || m < 1 || m > 12 {
		return bibstat.Month{}, fmt.Errorf("month %q: %d-%02d is out of range", s, y, m)
	}
	return bibstat.Month{Year: y, Mon: time.Month(m)}, nil
}

// NumberFormat says how a file writes numbers in text.
type NumberFormat string

const (
	// NumbersAuto reads both: the last of "," and "." before one or two
	// final digits is the decimal mark; a separator followed by groups of
	// three digits is a thousands separator.
	NumbersAuto NumberFormat = "auto"
	// NumbersNO is Norwegian: "1 234,5", "1.234" (spaces, NBSP or dots group thousands).
	NumbersNO NumberFormat = "no"
	// NumbersEN is English: "1,234.5".
	NumbersEN NumberFormat = "en"
)

var (
	digitsRE      = regexp.MustCompile(`^\d+$`)
	groupedRE     = regexp.MustCompile(`^\d{1,3}([.,])\d{3}(?:[.,]\d{3})*$`)
	numberSpaceRE = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "")
)

// parseNumber reads a count as a vendor wrote it. numeric says the cell was
// a spreadsheet number, whose text is Go-parseable.
func parseNumber(s string, nf NumberFormat, numeric bool) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "-" || t == "–" {
		return 0, nil // an empty cell or a dash is no usage
	}
	if numeric {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("number %q: not a number", s)
		}
		return f, nil
	}
	neg := false
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "−") {
		neg = true
		t = strings.TrimLeft(t, "-−")
	}
	t = numberSpaceRE.Replace(t)
	var dec, thou string
	switch nf {
	case NumbersNO:
		dec, thou = ",", "."
	case NumbersEN:
		dec, thou = ".", ","
	default:
		dec, thou = guessSeparators(t)
	}
	if thou != "" {
		t = strings.ReplaceAll(t, thou, "")
	}
	whole, frac, _ := strings.Cut(t, dec)
	if !digitsRE.MatchString(whole) || (frac != "" && !digitsRE.MatchString(frac)) || strings.Contains(frac, dec) {
		return 0, fmt.Errorf("number %q: not a number", s)
	}
	f, err := strconv.ParseFloat(whole+"."+frac+"0", 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %q: not a number", s)
	}
	if neg {
		f = -f
	}
	return f, nil
}

// guessSeparators picks the decimal mark and thousands separator of t,
// which has no spaces.
func guessSeparators(t string) (dec, thou string) {
	lastComma, lastDot := strings.LastIndex(t, ","), strings.LastIndex(t, ".")
	switch {
	case lastComma >= 0 && lastDot >= 0: // both: the last one is the decimal mark
		if lastComma > lastDot {
			return ",", "."
		}
		return ".", ","
	case groupedRE.MatchString(t): // "1.234" or "12,345,678": counts are whole, so grouping
		m := groupedRE.FindStringSubmatch(t)
		if m[1] == "," {
			return ".", ","
		}
		return ",", "."
	case lastComma >= 0:
		return ",", ""
	default:
		return ".", ""
	}
}

// parseCount reads a whole, non-negative count.
func parseCount(s string, nf NumberFormat, numeric bool) (int64, error) {
	f, err := parseNumber(s, nf, numeric)
	if err != nil {
		return 0, err
	}
	if f < 0 {
		return 0, fmt.Errorf("negative count %q", strings.TrimSpace(s))
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("count %q is not a whole number", strings.TrimSpace(s))
	}
	if f > 1e15 {
		return 0, fmt.Errorf("count %q is implausibly large", strings.TrimSpace(s))
	}
	return int64(f), nil
}
