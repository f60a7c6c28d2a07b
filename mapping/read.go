package mapping

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// Release is the release stamped on rows read through a mapping: they are
// the vendor's own figures, not a COUNTER report.
const Release = "vendor"

// Reject is one row that could not be mapped, and where and why.
type Reject struct {
	File   string
	Sheet  string // "" for CSV
	Row    int
	Column string // e.g. `D "Måned"`; "" when the row as a whole is wrong
	Reason string
}

// String reads "file:sheet:row 12:column D "Måned": reason".
func (r Reject) String() string {
	var b strings.Builder
	b.WriteString(r.File)
	if r.Sheet != "" {
		b.WriteString(":" + r.Sheet)
	}
	fmt.Fprintf(&b, ":row %d", r.Row)
	if r.Column != "" {
		b.WriteString(":column " + r.Column)
	}
	b.WriteString(": " + r.Reason)
	return b.String()
}

// ReadOptions tune one read through a mapping.
type ReadOptions struct {
	Name      string            // the file's name in errors and rejects
	SourceKey string            // stamped on every row
	Library   bibstat.LibraryID // for mappings without a library column
	Limits    Limits
}

// Result is what a mapped read found besides the rows.
type Result struct {
	Rows     int64
	Rejected []Reject
	Warnings []string
}

// Read reads a vendor file through m, sending its usage as record batches
// of the usage schema to emit, which owns (and must Release) each batch.
// Rows that cannot be mapped are listed in the result, not emitted; an
// error means the file as a whole does not fit the mapping.
func (m *Mapping) Read(ctx context.Context, data []byte, opts ReadOptions, emit func(arrow.RecordBatch) error) (*Result, error) {
	bt := schemas.NewBatcher(memory.NewGoAllocator(), 0, emit)
	defer bt.Release()
	res, err := m.ReadRows(ctx, data, opts, func(_ bibstat.LibraryID, _ bibstat.Month, r *schemas.Row) error {
		if r == nil {
			return nil // a zero count: no row
		}
		return bt.Add(r)
	})
	if err != nil {
		return res, err
	}
	return res, bt.Flush()
}

// RowSink receives one mapped row; the row is reused after it returns.
// A zero count still reaches the sink (with r == nil) so that the
// (library, month) is known to have been reported.
type RowSink func(lib bibstat.LibraryID, mon bibstat.Month, r *schemas.Row) error

// layout is a mapping resolved against one file's header row.
type layout struct {
	library, month, year, metricCol int // column indexes; -1 when not used
	metrics                         []metricCol
	fields                          map[string]int
}

type metricCol struct {
	col    int
	metric string        // "" when metric_column names it per row
	month  bibstat.Month // for month columns
}

func (m *Mapping) ReadRows(ctx context.Context, data []byte, opts ReadOptions, sink RowSink) (*Result, error) {
	opts.Limits = opts.Limits.OrDefault()
	res := &Result{}
	t, err := readTable(ctx, data, m, opts.Limits)
	if err != nil {
		return res, fmt.Errorf("%s: %w", opts.Name, err)
	}
	where := opts.Name
	if t.sheet != "" {
		where += ":" + t.sheet
	}
	var header []cell
	for _, r := range t.rows {
		if r.num == m.HeaderRow {
			header = r.cells
		}
	}
	if header == nil {
		return res, fmt.Errorf("%s: no header row %d (header_row in %s)", where, m.HeaderRow, m.name)
	}
	lay, err := m.resolve(header)
	if err != nil {
		return res, fmt.Errorf("%s:row %d: %w", where, m.HeaderRow, err)
	}
	if lay.library < 0 && opts.Library == "" {
		return res, fmt.Errorf("%s: the mapping %s names no library column: give the library (--library)", where, m.name)
	}
	const maxRejects = 1000 // enough to see the pattern; a wrong mapping rejects every row
	row := schemas.Row{}
	var pending []pendingRow
	for _, tr := range t.rows {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if tr.num < m.DataStart || blank(tr.cells) || m.skip(tr.cells) {
			continue
		}
		pending = pending[:0]
		rejects := m.mapRow(tr, lay, header, opts, &row, &pending)
		if len(rejects) > 0 {
			for _, rj := range rejects {
				rj.File, rj.Sheet, rj.Row = opts.Name, t.sheet, tr.num
				if len(res.Rejected) < maxRejects {
					res.Rejected = append(res.Rejected, rj)
				}
			}
			if len(res.Rejected) >= maxRejects && len(res.Warnings) == 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("more than %d rejected cells; only the first are listed", maxRejects))
			}
			continue
		}
		// A row is mapped whole or not at all, so a rejected file never
		// half-loads a row's metrics.
		for _, p := range pending {
			row.Month, row.MetricType, row.Count = p.month.First(), p.metric, p.count
			r := &row
			if p.count == 0 {
				r = nil
			} else {
				res.Rows++
			}
			if err := sink(p.lib, p.month, r); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

type pendingRow struct {
	lib    bibstat.LibraryID
	month  bibstat.Month
	metric string
	count  int64
}

// mapRow fills row's text fields and pending's counts from one table row,
// or returns why it cannot.
func (m *Mapping) mapRow(tr tableRow, lay layout, header []cell, opts ReadOptions, row *schemas.Row, pending *[]pendingRow) []Reject {
	rr := &rowReader{tr: tr, header: header}
	*row = schemas.Row{Release: Release, ReportID: m.Report, SourceKey: opts.SourceKey, Platform: m.Platform}
	for f, v := range m.Constants {
		*fieldSetters[f](row) = v
	}
	for f, i := range lay.fields {
		*fieldSetters[f](row) = strings.TrimSpace(rr.get(i).text)
	}
	lib := m.rowLibrary(rr, lay, opts.Library, row)
	year := m.Month.Year
	if lay.year >= 0 {
		c := rr.get(lay.year)
		y, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(c.text, ".0")))
		if err != nil || y < 1990 || y > 2100 {
			rr.reject(lay.year, "year %q: not a year", c.text)
		}
		year = y
	}
	rowMetric := ""
	if lay.metricCol >= 0 {
		c := rr.get(lay.metricCol)
		rowMetric = m.MetricTable[fold(c.text)]
		if rowMetric == "" {
			rr.reject(lay.metricCol, "metric %q is not in metric_table", strings.TrimSpace(c.text))
		}
	}
	var rowMonth bibstat.Month
	if lay.month >= 0 {
		c := rr.get(lay.month)
		mon, err := parseMonth(c.text, year, c.numeric)
		if err != nil {
			rr.reject(lay.month, "%v", err)
		}
		rowMonth = mon
	}
	for _, mc := range lay.metrics {
		if p, ok := m.rowCount(rr, lay, mc, rowMonth, year); ok {
			p.lib = lib
			if p.metric == "" {
				p.metric = rowMetric
			}
			*pending = append(*pending, p)
		}
	}
	return rr.rejects
}

// rowReader reads the cells of one table row and gathers its rejects.
type rowReader struct {
	tr      tableRow
	header  []cell
	rejects []Reject
}

func (rr *rowReader) get(i int) cell {
	if i < 0 || i >= len(rr.tr.cells) {
		return cell{}
	}
	return rr.tr.cells[i]
}

func (rr *rowReader) reject(col int, format string, args ...any) {
	h := ""
	if col < len(rr.header) {
		h = strings.TrimSpace(rr.header[col].text)
	}
	rr.rejects = append(rr.rejects, Reject{Column: fmt.Sprintf("%s %q", colName(col), h), Reason: fmt.Sprintf(format, args...)})
}

// rowLibrary is the row's library (or def when no column names it), and
// fills the row's institution and customer ids.
func (m *Mapping) rowLibrary(rr *rowReader, lay layout, def bibstat.LibraryID, row *schemas.Row) bibstat.LibraryID {
	lib := def
	if lay.library >= 0 {
		c := rr.get(lay.library)
		id, err := m.libraryOf(c.text)
		if err != nil {
			rr.reject(lay.library, "%v", err)
		} else {
			lib = id
			if m.Library.By == "account" {
				row.CustomerID = strings.TrimSpace(c.text)
			}
			if m.Library.By == "name" && row.InstitutionName == "" {
				row.InstitutionName = strings.TrimSpace(c.text)
			}
		}
	}
	row.InstitutionID = "ISIL:" + lib.ISIL()
	if row.CustomerID == "" {
		row.CustomerID = string(lib)
	}
	return lib
}

// rowCount reads one count cell and its month; false when it is rejected.
func (m *Mapping) rowCount(rr *rowReader, lay layout, mc metricCol, rowMonth bibstat.Month, year int) (pendingRow, bool) {
	c := rr.get(mc.col)
	n, err := parseCount(c.text, m.Numbers, c.numeric)
	if err != nil {
		rr.reject(mc.col, "%v", err)
		return pendingRow{}, false
	}
	mon := rowMonth
	if lay.month < 0 {
		mon = mc.month
		if mon.IsZero() { // a header without its year, resolved per row
			mon, err = parseMonth(rr.header[mc.col].text, year, false)
			if err != nil {
				rr.reject(mc.col, "%v", err)
				return pendingRow{}, false
			}
		}
	}
	return pendingRow{month: mon, metric: mc.metric, count: n}, true
}

// resolve finds the mapping's columns in the header row.
func (m *Mapping) resolve(header []cell) (layout, error) {
	idx := map[string]int{}
	dup := map[string]bool{}
	for i, c := range header {
		k := fold(c.text)
		if k == "" {
			continue
		}
		if _, ok := idx[k]; ok {
			dup[k] = true
		}
		idx[k] = i
	}
	var missing []string
	find := func(key, name string) int {
		if name == "" {
			return -1
		}
		i, ok := idx[fold(name)]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s %q", key, name))
			return -1
		case dup[fold(name)]:
			missing = append(missing, fmt.Sprintf("%s %q (the header has it twice)", key, name))
			return -1
		}
		return i
	}
	lay := layout{fields: map[string]int{}}
	lay.library = find("library.column", m.Library.Column)
	lay.month = find("month.column", m.Month.Column)
	lay.year = find("month.year_column", m.Month.YearColumn)
	lay.metricCol = find("metric_column", m.MetricColumn)
	for _, f := range sortedKeys(m.Columns) {
		if i := find("columns."+f, m.Columns[f]); i >= 0 {
			lay.fields[f] = i
		}
	}
	if m.Month.Unpivot {
		// Every header that names a month is a month column; the rest
		// (library, "Sum", notes) are not counts.
		for i, c := range header {
			mon, ok := isMonthHeader(c.text, max(m.Month.Year, 2000))
			if !ok {
				continue
			}
			if m.Month.Year == 0 && m.Month.YearColumn != "" {
				if _, err := parseMonth(c.text, 0, false); err != nil {
					mon = bibstat.Month{} // named without a year: the year column says which
				}
			} else if m.Month.Year == 0 {
				if _, err := parseMonth(c.text, 0, false); err != nil {
					return lay, fmt.Errorf("column %s %q names a month without a year: set month.year or month.year_column in %s", colName(i), c.text, m.name)
				}
			}
			lay.metrics = append(lay.metrics, metricCol{col: i, metric: m.Metric, month: mon})
		}
		if len(lay.metrics) == 0 {
			missing = append(missing, "month.unpivot: no header names a month")
		}
	} else {
		for _, ms := range m.Metrics {
			if i := find("metrics", ms.Column); i >= 0 {
				lay.metrics = append(lay.metrics, metricCol{col: i, metric: ms.Metric})
			}
		}
	}
	if len(missing) > 0 {
		var have []string
		for _, c := range header {
			if t := strings.TrimSpace(c.text); t != "" {
				have = append(have, strconv.Quote(t))
			}
		}
		return lay, fmt.Errorf("mapping %s: not in the header: %s; the header has %s",
			m.name, strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	return lay, nil
}

func (m *Mapping) libraryOf(s string) (bibstat.LibraryID, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("no library")
	}
	switch m.Library.By {
	case "name", "account":
		id, ok := m.Library.Table[fold(t)]
		if !ok {
			return "", fmt.Errorf("unknown library %s %q: add it to library.table in %s", m.Library.By, t, m.name)
		}
		return bibstat.LibraryID(id), nil // checked when the mapping was read
	default:
		id, err := bibstat.ParseLibraryID(strings.TrimSuffix(t, ".0"))
		if err != nil {
			return "", fmt.Errorf("unknown library: %v", err)
		}
		return id, nil
	}
}

// skip reports whether a row is a footer or total the mapping skips: its
// first non-empty cell matches skip_rows_matching.
func (m *Mapping) skip(cells []cell) bool {
	if m.skipRE == nil {
		return false
	}
	for _, c := range cells {
		if t := strings.TrimSpace(c.text); t != "" {
			return m.skipRE.MatchString(t)
		}
	}
	return false
}

func blank(cells []cell) bool {
	for _, c := range cells {
		if strings.TrimSpace(c.text) != "" {
			return false
		}
	}
	return true
}
