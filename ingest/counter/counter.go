package counter

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat"
)

// Kind says what a document turned out to be.
type Kind string

const (
	KindReport     Kind = "report"      // a COUNTER report (possibly with exceptions in its header)
	KindExceptions Kind = "exceptions"  // only exceptions, no report
	KindReportList Kind = "report_list" // a /reports list of supported reports
)

// Options tune one Read.
type Options struct {
	// Name names the document in errors and warnings (a file name or object key).
	Name string
	// SourceKey is stamped on every row: the raw object's key.
	SourceKey string
	// MaxBytes bounds how much of the input is read; 0 means DefaultMaxBytes.
	MaxBytes int64
	// BatchRows bounds the rows in one emitted record batch; 0 means the default.
	BatchRows int
	// Mem allocates the batches; nil means the Go allocator.
	Mem memory.Allocator
}

// DefaultMaxBytes bounds one document read from outside.
const DefaultMaxBytes = 4 << 30

// Exception is a COUNTER exception as the vendor sent it.
type Exception struct {
	Code     int    `json:"code"`
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
	Data     string `json:"data,omitempty"`
}

// Header is what a document says about itself.
type Header struct {
	ReportName      string
	InstitutionName string
	InstitutionID   string // "ISIL:NO-2030100; Proprietary:ebsco:s123", COUNTER tabular form
	CustomerID      string
	Begin, End      bibstat.Month // the reporting period; zero if not stated
	Created         string
	CreatedBy       string
}

// Document is the outcome of reading one document: everything but the rows,
// which went to the emit callback.
type Document struct {
	Kind       Kind
	Release    string // "4", "5" or "5.1"
	ReportID   string // upper case, e.g. "TR_J1"; "" for exceptions or a report list
	Header     Header
	Exceptions []Exception
	Warnings   []string

	Rows   int64            // usage rows emitted
	Totals map[string]int64 // Metric_Type → sum of monthly counts
	months map[bibstat.Month]bool
}

// Months lists, sorted, the months with at least one non-zero count.
func (d *Document) Months() []bibstat.Month {
	out := make([]bibstat.Month, 0, len(d.months))
	for m := range d.months {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func (d *Document) warnf(format string, args ...any) {
	const maxWarnings = 100 // a hostile file must not grow the list without bound
	switch {
	case len(d.Warnings) < maxWarnings:
		d.Warnings = append(d.Warnings, fmt.Sprintf(format, args...))
	case len(d.Warnings) == maxWarnings:
		d.Warnings = append(d.Warnings, "more warnings not shown")
	}
}

// count records one emitted row in the document's totals.
func (d *Document) count(metric string, m bibstat.Month, n int64) {
	if d.Totals == nil {
		d.Totals = map[string]int64{}
		d.months = map[bibstat.Month]bool{}
	}
	d.Rows++
	d.Totals[metric] += n
	if n != 0 {
		d.months[m] = true
	}
}

// Read reads one COUNTER document from r, sending its usage rows as record
// batches to emit, which owns (and must Release) each batch. It returns an
// error only when the document cannot be understood as a COUNTER report, an
// exception response or a report list.
func Read(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error) (*Document, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	lr := &limitedReader{r: r, left: opts.MaxBytes, name: opts.Name}
	doc, err := readJSON(ctx, lr, opts, emit)
	if err != nil {
		return doc, fmt.Errorf("%s: %w", opts.Name, err)
	}
	return doc, nil
}

// limitedReader fails, rather than truncating silently, when the input is
// larger than allowed.
type limitedReader struct {
	r    io.Reader
	left int64
	name string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("document is larger than the limit")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
