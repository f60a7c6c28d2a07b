package bibstat

import (
	"fmt"
	"time"
)

// Month is a calendar month, the finest grain COUNTER reports usage in.
// The zero Month is invalid.
type Month struct {
	Year int
	Mon  time.Month
}

// MonthOf returns the month t falls in, in t's location.
func MonthOf(t time.Time) Month { return Month{t.Year(), t.Month()} }

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("parse month %q: want YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// String formats the month as "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Mon)) }

// IsZero reports whether m is the zero Month.
func (m Month) IsZero() bool { return m.Year == 0 && m.Mon == 0 }

// First is midnight UTC on the first day of the month.
func (m Month) First() time.Time { return time.Date(m.Year, m.Mon, 1, 0, 0, 0, 0, time.UTC) }

// Last is the last day of the month (midnight UTC), as COUNTER's End_Date.
func (m Month) Last() time.Time { return m.First().AddDate(0, 1, -1) }

// Add returns the month n months after m (n may be negative).
func (m Month) Add(n int) Month { return MonthOf(m.First().AddDate(0, n, 0)) }

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool { return m.index() < o.index() }

// Index counts months since year 0; differences of indexes count months between.
func (m Month) index() int { return m.Year*12 + int(m.Mon) - 1 }

// MonthsBetween returns every month from first to last inclusive, or nil if last is before first.
func MonthsBetween(first, last Month) []Month {
	var out []Month
	for m := first; !last.Before(m); m = m.Add(1) {
		out = append(out, m)
	}
	return out
}
