package counter

// The tabular reader: one R4, R5 or R5.1 report in TSV, CSV or XLSX,
// read row by row from a rowSource.

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

type colKind uint8

const (
	colIgnore   colKind = iota
	colText             // a text field of the row
	colYOP              // year of publication
	colMetric           // Metric_Type
	colActivity         // R4 User Activity, mapped to a Metric_Type
	colTotal            // Reporting_Period_Total
	colMonth            // one month's counts
)

// column is what one tabular column holds and where it goes.
type column struct {
	kind    colKind
	heading string
	dst     *string // colText: the row field
	last    string  // colText: the previous row's value, reused to spare an allocation
	month   bibstat.Month
	first   time.Time
}

// tab reads one tabular report, whatever the container.
type tab struct {
	ctx  context.Context
	src  rowSource
	doc  *Document
	opts Options
	sink *sink
	row  schemas.Row
	cols []column

	r4        bool            // an R4 report, by its row-1 title or its columns
	r4Title   bool            // the R4 row-1 title was there
	labels    int             // R5 header labels seen
	seen      map[string]bool // R5 header labels seen, folded by norm
	r4Next    string          // the R4 header value the next row holds
	nameCol   int             // the column naming the item, checked for summary rows
	metricCol int
	totalCol  int
	yopCol    int
	textCols  []int
	monthCols []int
	warned    map[string]bool

	dataRows     int64 // rows below the headings that are neither blank nor a summary
	summaryUsage bool  // a summary row has a count other than 0
}

func readTabular(ctx context.Context, src rowSource, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	t := &tab{ctx: ctx, src: src, doc: doc, opts: opts, nameCol: -1, metricCol: -1, totalCol: -1, yopCol: -1}
	headings, err := t.header()
	if err != nil {
		return err
	}
	if err := t.checkHeader(headings); err != nil {
		return err
	}
	doc.Kind = KindReport
	if headings == nil {
		return nil // a header-only report, e.g. an exception and no usage: not Empty, it has no headings row
	}
	if err := t.columns(headings); err != nil {
		return err
	}
	t.sink = newSink(ctx, doc, opts, emit)
	defer t.sink.release()
	if err := t.body(); err != nil {
		return err
	}
	if err := t.sink.flush(); err != nil {
		return err
	}
	doc.settleEmpty(t.noItems())
	return nil
}

// noItems says the file is a vendor's complete report with no usage in it:
// its whole header block, its column headings and not one data row. A
// summary row ("Total for all journals") is no data row, but a summary
// with a count other than 0 is usage whose rows are missing, never zero.
// Rows that were all zero, all refused or all outside the period are data
// rows: such a file is not the vendor saying "no usage" (a vendor
// zero-fills months it has not processed).
func (t *tab) noItems() bool {
	return t.completeHeader() && t.dataRows == 0 && !t.summaryUsage
}

// warnOnce warns about a quirk once per document, not once per row.
func (t *tab) warnOnce(key, format string, args ...any) {
	if t.warned[key] {
		return
	}
	if t.warned == nil {
		t.warned = map[string]bool{}
	}
	t.warned[key] = true
	t.doc.warnf(format, args...)
}

func cell(cells [][]byte, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(string(cells[i]))
}

func allEmpty(cells [][]byte) bool {
	for _, c := range cells {
		if len(bytes.TrimSpace(c)) > 0 {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
