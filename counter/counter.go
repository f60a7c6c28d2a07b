package counter

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
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

	// MaxLineBytes bounds one tabular line; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxColumns bounds the cells of one tabular row; 0 means DefaultMaxColumns.
	MaxColumns int
	// MaxDepth bounds JSON nesting; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxXLSXBytes bounds the uncompressed size of an XLSX workbook; 0 means DefaultMaxXLSXBytes.
	MaxXLSXBytes int64

	// AcceptPartial reads on past a bad count (a CellError): the cell is
	// left out, counted in Document.Skipped and kept as a warning, instead
	// of failing the document. For `ingest --accept-partial` only: a
	// harvest never loads a document with a bad cell.
	AcceptPartial bool

	// Rows, when set, takes each usage row in place of record batches
	// (Read's emit is not called, and may be nil). The Row and its text
	// are valid during the call only: copy what is kept, as
	// schemas.Batcher.Add does. A caller that gathers many small documents
	// into one Batcher of its own spares each its own batch of 38 arrays.
	// As with emit, a document that fails may have handed over rows first:
	// the caller drops them.
	Rows func(*schemas.Row) error

	// streamJSON reads JSON through encoding/json's Decoder alone, as
	// before byteTokens: the differential tests' and benchmarks' old path.
	streamJSON bool
}

// Limits on input read from outside. They are far above anything a vendor
// sends and exist so that a hostile or broken file fails cleanly.
const (
	DefaultMaxBytes     = 4 << 30
	DefaultMaxLineBytes = 1 << 20
	DefaultMaxColumns   = 2048
	DefaultMaxDepth     = 64
	DefaultMaxXLSXBytes = 1 << 30
	// MinLineBytes is the least read buffer: the head the format is
	// sniffed from. A smaller MaxLineBytes is raised to it.
	MinLineBytes = 64
)

func (o *Options) defaults() {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	o.MaxLineBytes = max(o.MaxLineBytes, MinLineBytes)
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxXLSXBytes <= 0 {
		o.MaxXLSXBytes = DefaultMaxXLSXBytes
	}
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

	// FirstColumn and LastColumn are a tabular report's first and last month
	// columns, the period of a file that has no header.
	FirstColumn, LastColumn bibstat.Month

	Rows   int64            // usage rows emitted
	Totals map[string]int64 // Metric_Type → sum of monthly counts
	months map[bibstat.Month]bool

	// Empty is the vendor's positive statement of no usage: a well-formed
	// report whose header covers its period and whose Report_Items is an
	// empty list (tabular: a complete header block and no data rows). A
	// report that yields no rows for any other reason is not Empty, and
	// must never become a zero unit.
	Empty bool
	// Skipped counts the data values read but not loaded: dated outside the
	// reporting period, an unknown metric, a period that is not one month,
	// a bad cell under AcceptPartial. Rows == 0 with Skipped > 0 is a
	// document whose every value was set aside: a failure, never zero.
	Skipped int64
	outside map[bibstat.Month]bool // months of usage set aside as outside the reporting period
}

// OutsideMonths lists, sorted, the months of usage the document dates
// outside its own reporting period (set aside, counted in Skipped). A
// harvest asked for one month fails a response that has any: the vendor
// mislabelled it, and the month asked for may be wrong too.
func (d *Document) OutsideMonths() []bibstat.Month {
	return slices.SortedFunc(maps.Keys(d.outside), func(a, b bibstat.Month) int {
		return cmp.Compare(a.Year*12+int(a.Mon), b.Year*12+int(b.Mon))
	})
}

func (d *Document) noteOutside(m bibstat.Month) {
	const maxMonths = 1200 // a century: a hostile file must not grow it without bound
	if d.outside == nil {
		d.outside = map[bibstat.Month]bool{}
	}
	if len(d.outside) < maxMonths {
		d.outside[m] = true
	}
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

// totals gathers a reader's counts for the Document without a map update
// per row: consecutive rows nearly always share their metric, and the
// months seen are kept in a bit set. flush hands them to the Document.
type totals struct {
	metric string // the metric of the current run of rows
	base   int64  // the Document's total of metric when the run began
	sum    int64  // the run's counts
	rows   int64  // the run's rows
	seen   [((monthBitsTo - monthBitsFrom) * 12) / 64]uint64
	other  map[bibstat.Month]bool // months outside the bit set
}

// The months the bit set covers: years monthBitsFrom to monthBitsTo-1.
const (
	monthBitsFrom = 1984
	monthBitsTo   = 2240
)

// total is the document's total of metric so far, and makes metric the
// current run's, which add counts to.
func (t *totals) total(d *Document, metric string) int64 {
	if metric != t.metric {
		t.flushMetric(d)
		t.metric, t.base = metric, d.Totals[metric]
	}
	return t.base + t.sum
}

// add counts one row of the current metric (see total) for month m.
func (t *totals) add(m bibstat.Month, n int64) {
	t.rows++
	t.sum += n
	if n == 0 {
		return
	}
	if m.Year >= monthBitsFrom && m.Year < monthBitsTo && m.Mon >= 1 && m.Mon <= 12 {
		i := (m.Year-monthBitsFrom)*12 + int(m.Mon) - 1
		t.seen[i/64] |= 1 << (i % 64)
		return
	}
	if t.other == nil {
		t.other = map[bibstat.Month]bool{}
	}
	t.other[m] = true
}

// flushMetric adds the current metric's run to d.
func (t *totals) flushMetric(d *Document) {
	if t.rows == 0 {
		return
	}
	if d.Totals == nil {
		d.Totals = map[string]int64{}
		d.months = map[bibstat.Month]bool{}
	}
	d.Rows += t.rows
	d.Totals[t.metric] += t.sum
	t.base += t.sum
	t.rows, t.sum = 0, 0
}

// flush adds everything gathered so far to d.
func (t *totals) flush(d *Document) {
	t.flushMetric(d)
	for w, bits := range t.seen {
		for bits != 0 {
			b := bits & -bits
			i := w*64 + bitIndex(b)
			d.months[bibstat.Month{Year: monthBitsFrom + i/12, Mon: time.Month(i%12 + 1)}] = true
			bits &^= b
		}
		t.seen[w] = 0
	}
	for m := range t.other {
		d.months[m] = true
	}
	t.other = nil
}

func bitIndex(b uint64) int {
	n := 0
	for b > 1 {
		b >>= 1
		n++
	}
	return n
}

// Read reads one COUNTER document from r, sending its usage rows as record
// batches to emit, which owns (and must Release) each batch. A nil emit
// only counts the rows (Document.Rows, Totals, Months) and builds no
// batches, for a caller that judges a document and keeps none of its rows;
// Options.Rows takes the rows one by one instead of batches.
// It returns an error only when the document cannot be understood as a
// COUNTER report, an exception response or a report list.
//
// The format (JSON, XLSX, TSV or CSV) is sniffed from the content, not the
// name, because vendors and harvesters mislabel files.
func Read(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error) (*Document, error) {
	opts.defaults()
	doc := &Document{}
	lr := &limitedReader{r: r, left: opts.MaxBytes}
	br := bufio.NewReaderSize(lr, opts.MaxLineBytes)
	var err error
	switch sniff(br) {
	case formatEmpty:
		err = errors.New("empty document")
	case formatJSON:
		err = readJSON(ctx, br, opts, emit, doc)
	case formatXLSX:
		err = readXLSX(ctx, br, opts, emit, doc)
	default:
		err = readDelimited(ctx, br, opts, emit, doc)
	}
	if err != nil {
		doc.Empty = false
		// A bad cell is returned as itself, whatever the reader wrapped
		// it in: it names the document, and where in it, on its own.
		var ce *CellError
		if errors.As(err, &ce) {
			if ce.Name == "" {
				ce.Name = opts.Name
			}
			return doc, ce
		}
		return doc, fmt.Errorf("%s: %w", opts.Name, err)
	}
	return doc, nil
}

// settleEmpty decides Document.Empty once a report is read; noItems says
// the vendor sent the report's item list and it had nothing in it (JSON:
// "Report_Items": []; tabular: a complete header block and no data rows).
// Only that, under a header stating its whole period, is a vendor saying
// "no usage". An exception beside it that says the data are missing,
// late or refused (3031 not ready, 3040 partial, 1xxx, 2xxx) makes the
// empty list its consequence, not a statement of zero; info, warnings
// (a parameter ignored: 3062) and 3030 itself leave it standing.
func (d *Document) settleEmpty(noItems bool) {
	d.Empty = false
	if !noItems || d.Kind != KindReport || d.Rows != 0 || d.Skipped != 0 ||
		d.Header.Begin.IsZero() || d.Header.End.IsZero() {
		return
	}
	for i := range d.Exceptions {
		switch d.Exceptions[i].Class() {
		case ClassInfo, ClassWarning, ClassNoUsage:
		default:
			return
		}
	}
	d.Empty = true
}

type format int

const (
	formatEmpty format = iota
	formatJSON
	formatXLSX
	formatText
)

var bom = []byte("\xef\xbb\xbf")

// sniffSpace is what sniff skips before the byte that names a format.
const sniffSpace = " \t\r\n"

// JSONInLeastBuffer reports whether Read takes raw for JSON already from
// its first MinLineBytes as from a longer head: the first byte past the
// spaces sniff skips is inside them and opens an object or a list. A
// caller holding the whole document may then read it with MaxLineBytes
// MinLineBytes, since JSON is never read as lines.
func JSONInLeastBuffer(raw []byte) bool {
	rest := bytes.TrimLeft(raw, sniffSpace)
	return len(raw)-len(rest) < MinLineBytes && len(rest) > 0 && (rest[0] == '{' || rest[0] == '[')
}

// sniff looks at the first bytes: a zip is XLSX, a JSON value starts with
// { [ or ", anything else is tabular text.
func sniff(br *bufio.Reader) format {
	head, _ := br.Peek(4096)
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return formatXLSX
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, bom), sniffSpace)
	if len(head) == 0 {
		return formatEmpty
	}
	switch head[0] {
	case '"':
		if quotedTabular(head) { // "Report_Name","Platform Report": a CSV whose cells are all quoted
			return formatText
		}
		return formatJSON
	case '{', '[':
		return formatJSON
	}
	return formatText
}

// errTooLarge is what a read past Options.MaxBytes fails with.
var errTooLarge = errors.New("document is larger than the size limit")

// limitedReader fails, rather than truncating silently, when the input is
// larger than allowed.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a file of exactly the limit from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// sink is where every reader sends its counts: it drops zeros, sets aside
// (in Document.Skipped, with one warning per reason) counts dated outside
// the reporting period or under a name that is not a Metric_Type, batches
// the rows and keeps the totals. Every reader goes through it, so the
// closed vocabulary and the period rule hold for every format.
type sink struct {
	ctx    context.Context
	doc    *Document
	bt     *schemas.Batcher
	rows   func(*schemas.Row) error // Options.Rows
	n      int
	warned map[string]bool // skip reasons already warned about
	tot    totals
}

func newSink(ctx context.Context, doc *Document, opts Options, emit func(arrow.RecordBatch) error) *sink {
	s := &sink{ctx: ctx, doc: doc, rows: opts.Rows}
	if emit != nil && s.rows == nil {
		s.bt = schemas.NewBatcher(opts.Mem, opts.BatchRows, emit)
	}
	return s
}

// skip sets aside n values read but not loaded, warning once per distinct
// why (so a file of a million out-of-period cells warns once). A reader
// calls it for what it refuses itself (a bad cell under AcceptPartial, a
// period that is not one month); add calls it for the rules below.
func (s *sink) skip(n int64, why string) {
	if n <= 0 {
		n = 1
	}
	if s.doc.Skipped <= math.MaxInt64-n {
		s.doc.Skipped += n
	}
	// The reasons remembered are bounded as the warnings are: a reason that
	// names its cell is new for every bad cell of a hostile file.
	const maxReasons = 128
	if !s.warned[why] && len(s.warned) < maxReasons {
		if s.warned == nil {
			s.warned = map[string]bool{}
		}
		s.warned[why] = true
		s.doc.warnf("%s", why)
	}
}

// inPeriod says whether m lies in the header's reporting period (or there
// is none).
func (s *sink) inPeriod(m bibstat.Month) bool {
	h := &s.doc.Header
	return (h.Begin.IsZero() || !m.Before(h.Begin)) && (h.End.IsZero() || !h.End.Before(m))
}

// add emits row for month m (whose first day is first) with count n.
func (s *sink) add(row *schemas.Row, m bibstat.Month, first time.Time, n int64) error {
	if !IsMetric(row.MetricType) {
		// Before the zero test, so that a file of unknown names warns even
		// where its counts are zero.
		s.skip(1, fmt.Sprintf("metric %q is not a COUNTER Metric_Type; its counts are not loaded", row.MetricType))
		return nil
	}
	if n == 0 {
		return nil // COUNTER omits zero usage; a zero cell carries no information
	}
	if !s.inPeriod(m) {
		h := &s.doc.Header
		s.doc.noteOutside(m)
		s.skip(1, fmt.Sprintf("counts for %s are outside the reporting period %s to %s and are not counted", m, h.Begin, h.End))
		return nil
	}
	s.n++
	if s.n&4095 == 0 {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	// A count that would wrap the document's total is refused, not summed:
	// no vendor's month comes near 2^63 uses, so it is a broken or hostile file.
	if s.tot.total(s.doc, row.MetricType) > math.MaxInt64-n {
		return fmt.Errorf("counts of %s add up to more than %d: %w", row.MetricType, int64(math.MaxInt64), ErrOverflow)
	}
	row.Month, row.Count = first, n
	switch {
	case s.rows != nil:
		if err := s.rows(row); err != nil {
			return err
		}
	case s.bt != nil:
		if err := s.bt.Add(row); err != nil {
			return err
		}
	}
	s.tot.add(m, n)
	return nil
}

// flush emits the last, partial batch.
func (s *sink) flush() error {
	s.tot.flush(s.doc)
	if s.bt == nil {
		return nil
	}
	return s.bt.Flush()
}

// release frees the batcher; deferred by every reader, error or not.
func (s *sink) release() {
	if s.bt != nil {
		s.bt.Release()
	}
}
