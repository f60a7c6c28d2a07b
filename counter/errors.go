package counter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CellError is a value that is not a count: not a whole non-negative
// number, or too large. It names where it was, so an operator can find it
// in the vendor's file.
type CellError struct {
	Name   string // the document (file name or object key)
	Row    int    // tabular: the 1-based line or sheet row; 0 for JSON
	Column string // tabular: the column heading; JSON: the month, e.g. "2025-01"
	Item   string // JSON: the report item's name; tabular: ""
	Value  string // the value as the vendor wrote it, truncated
	Err    error  // ErrNotACount or ErrOverflow
}

// ErrNotACount and ErrOverflow are what a CellError wraps.
var (
	ErrNotACount = errors.New("not a whole non-negative number")
	ErrOverflow  = errors.New("count too large (overflow)")
)

func (e *CellError) Error() string {
	var where []string
	if e.Row > 0 {
		where = append(where, fmt.Sprintf("row %d", e.Row))
	}
	if e.Item != "" {
		where = append(where, fmt.Sprintf("item %q", e.Item))
	}
	if e.Column != "" {
		where = append(where, fmt.Sprintf("column %q", e.Column))
	}
	v := e.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	at := strings.Join(where, " ")
	if e.Name != "" {
		at = e.Name + ": " + at // the form every Read error has: "name: …"
	}
	return fmt.Sprintf("%s: value %q: %v", at, v, e.Err)
}

func (e *CellError) Unwrap() error { return e.Err }

// countOf reads a count as parseCount does, telling a number too large
// (ErrOverflow) from one that is not a count at all (ErrNotACount), so
// that neither is ever taken for zero. An empty cell is 0: COUNTER's
// tabular files leave zero months empty; a JSON reader refuses empties
// itself before it asks.
func countOf(b []byte) (int64, error) {
	n, err := parseCount(b)
	if err == nil {
		return n, nil
	}
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(s)
	digits := s != ""
	for _, c := range s {
		if c < '0' || c > '9' {
			digits = false
			break
		}
	}
	if digits {
		return 0, ErrOverflow
	}
	if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f >= 1<<53 && !math.IsInf(f, 0) && f == math.Trunc(f) {
		return 0, ErrOverflow
	}
	return 0, ErrNotACount
}
