package counter

import (
	"errors"
	"fmt"
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
