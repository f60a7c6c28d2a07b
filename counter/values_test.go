package counter

import (
	"errors"
	"testing"
)

// TestParseMonthClosedNames: a month word is a known name or abbreviation,
// never a word that merely begins like one, with a year or without.
func TestParseMonthClosedNames(t *testing.T) {
	good := map[string]string{
		"Mars 2024": "2024-03", "mars-24": "2024-03", "Febr. 2024": "2024-02", "Sept-2024": "2024-09",
		"Jänner 2024": "2024-01", "Mär-2024": "2024-03", "des. 2024": "2024-12", "Desember 2024": "2024-12",
		"2024 oktober": "2024-10", "24-Okt": "2024-10", "Jan-20": "2020-01", "22-Jan": "2022-01",
	}
	for in, want := range good {
		if m, ok := ParseMonth(in); !ok || m.String() != want {
			t.Errorf("ParseMonth(%q) = %v %v; want %s", in, m, ok, want)
		}
	}
	for _, bad := range []string{"Description 2024", "Desk-2024", "Marsvin 2024", "Janv-2022", "Decimal 2024",
		"Juniper 2024", "Augmented-2024", "2024 Mayday", "Sepia-24", "Maybe 2024"} {
		if m, ok := ParseMonth(bad); ok {
			t.Errorf("ParseMonth(%q) = %s; want no month", bad, m)
		}
	}
	for _, bad := range []string{"Description", "Marsvin", "Desk", "Ja", "Febru", "Okto"} {
		if m, ok := MonthName(bad); ok {
			t.Errorf("MonthName(%q) = %s; want no month", bad, m)
		}
	}
}

// TestParseCountErrors: every value that is not a whole non-negative
// number is an error, and which one.
func TestParseCountErrors(t *testing.T) {
	good := map[string]int64{"": 0, " ": 0, "0": 0, "12": 12, `"1,000"`: 1000, "1 000": 1000, "1\u00a0000": 1000,
		"12.0": 12, "7.": 7, "9223372036854775807": 1<<63 - 1}
	for in, want := range good {
		if n, err := parseCount([]byte(in)); err != nil || n != want {
			t.Errorf("parseCount(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	bad := map[string]error{
		"x2": ErrNotACount, "-3": ErrNotACount, "1.5": ErrNotACount, "n/a": ErrNotACount, "-": ErrNotACount,
		"1e3": ErrNotACount, "1.000": ErrNotACount, "0x10": ErrNotACount, "NaN": ErrNotACount, "Inf": ErrNotACount,
		"9223372036854775808": ErrOverflow, "1e18": ErrOverflow, "100000000000000000000.0": ErrOverflow,
	}
	for in, want := range bad {
		if n, err := parseCount([]byte(in)); !errors.Is(err, want) {
			t.Errorf("parseCount(%q) = %d, %v; want %v", in, n, err, want)
		}
	}
}
