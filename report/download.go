package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// writeDownloads writes the scope's usage as CSV for spreadsheets (in the
// page's language), CSV for machines, XLSX, COUNTER R5.1 TSV and Parquet,
// and returns the file names relative to the scope's directory and the
// digest of the downloads' inputs. Every spreadsheet download has a row
// per library, with its number and name.
func (s *Site) writeDownloads(ctx context.Context, m messages, sc Scope, rows []usageRow, libs []libraryRow) ([]download, string, error) {
	dir := filepath.Join(s.Out, sc.Directory)
	lrows, n, runs, err := s.libraryRows(ctx, m, sc, libs)
	if err != nil {
		return nil, "", err
	}
	// The COUNTER file is digested by its rows and time, and made only when
	// the downloads are: a rebuild made every one to find it unchanged.
	crows, err := s.counterInputs(ctx, sc, rows)
	if err != nil {
		return nil, "", fmt.Errorf("download %s.tsv: %w", sc.FileStem, err)
	}
	created := s.created()
	hasTSV := slices.ContainsFunc(crows, func(r counterRow) bool { _, ok := prShown(r); return ok })
	var tsv []byte  // made below, unless the downloads are as recorded
	var sheet sheet // made below, unless the downloads are as recorded
	files := []struct {
		suffix, label string
		write         func(io.Writer) error
	}{
		{".csv", m.DownloadCSV, func(w io.Writer) error { return sheet.writeCSV(w, m, false) }},
		{"-maskin.csv", m.DownloadCSVMachine, func(w io.Writer) error { return sheet.writeCSV(w, m, true) }},
		{".xlsx", m.DownloadXLSX, func(w io.Writer) error { return sheet.writeXLSX(w, m) }},
		{".tsv", m.DownloadTSV, func(w io.Writer) error { _, err := w.Write(tsv); return err }},
		{".parquet", m.DownloadParquet, func(w io.Writer) error { return sheet.writeParquet(w) }},
	}
	var out []download
	var names []string
	for _, f := range files {
		if f.suffix == ".tsv" && !hasTSV {
			continue // no COUNTER file for a scope without usage (counterDownload)
		}
		out = append(out, download{Name: sc.FileStem + f.suffix, Label: f.label})
		names = append(names, sc.FileStem+f.suffix)
	}
	key := sc.Directory + "/" + sc.FileStem
	var digest string
	if s.record != nil {
		digest = s.record.scopeDigest(sc, lrows, n, runs, crows, created, hasTSV)
		if s.record.unchanged(key, digest, dir, names) {
			s.frags.skip(runs) // its libraries' fragments are not asked for
			return out, digest, nil
		}
	}
	// The nation's are 800,000 rows: the slice is sized at once, not grown by doubling.
	if tsv, err = usageCOUNTER(sc, crows, created); err != nil {
		return nil, "", fmt.Errorf("download %s.tsv: %w", sc.FileStem, err)
	}
	if (tsv != nil) != hasTSV {
		return nil, "", fmt.Errorf("download %s.tsv: made %t, want %t", sc.FileStem, tsv != nil, hasTSV)
	}
	sheet = s.usageSheet(slices.AppendSeq(make([]libraryUsage, 0, n), lrows), runs)
	for _, f := range files {
		if f.suffix == ".tsv" && !hasTSV {
			continue
		}
		name := sc.FileStem + f.suffix
		if err := s.writeStream(filepath.Join(dir, name), f.write); err != nil {
			return nil, "", fmt.Errorf("download %s: %w", name, err)
		}
	}
	return out, digest, s.record.made(key, digest, dir, names)
}

type download struct{ Name, Label string }

// libraryUsage is a usage row with the library it belongs to.
type libraryUsage struct {
	ID, Name string
	usageRow
}

// libraryRows are the scope's usage per library; the nation's adds the
// usage no library could be attributed, under no number, so that the
// download sums to the page. They are a sequence, n long, made into a
// slice only for downloads that are made (a rebuild digests most and
// makes few). The runs say which rows are which library's, in order.
func (s *Site) libraryRows(ctx context.Context, m messages, sc Scope, libs []libraryRow) (rows iter.Seq[libraryUsage], n int, runs []sheetRun, err error) {
	var extra []libraryUsage
	if sc.Kind == "nation" {
		if extra, err = s.unattributed(ctx, m); err != nil {
			return nil, 0, nil, err
		}
	}
	for _, l := range libs {
		if k := len(s.libUsage[l.ID]); k > 0 {
			n += k
			runs = append(runs, sheetRun{key: runKey(l), n: k})
		}
	}
	rows = func(yield func(libraryUsage) bool) {
		for _, l := range libs {
			for _, r := range s.libUsage[l.ID] {
				if !yield(libraryUsage{l.ID, l.Name, r}) {
					return
				}
			}
		}
		for _, r := range extra {
			if !yield(r) {
				return
			}
		}
	}
	return rows, n + len(extra), runs, nil
}

// unattributed is the nation's usage that no library could be attributed.
func (s *Site) unattributed(ctx context.Context, m messages) ([]libraryUsage, error) {
	q, err := s.DB.QueryContext(ctx, `SELECT platform, metric_type, month, sum(unattributed)::BIGINT FROM mart_national_month
		GROUP BY ALL HAVING sum(unattributed) <> 0 ORDER BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("report unattributed usage: %w", err)
	}
	defer q.Close()
	var out []libraryUsage
	for q.Next() {
		r := libraryUsage{Name: m.Unattributed}
		if err := q.Scan(&r.Platform, &r.Metric, &r.Month, &r.Count); err != nil {
			return nil, fmt.Errorf("report unattributed usage: %w", err)
		}
		r.Total = float64(r.Count)
		out = append(out, r)
	}
	return out, q.Err()
}

// sheet is a usage download's rows, and how it names platforms.
type sheet struct {
	rows     []libraryUsage
	platform func(id string) string
	// runs, with frags, are the first rows as libraries' whole usage, one
	// run after another: the rows a library has in every download, written
	// once per build and format (fragments) and copied into the others.
	runs  []sheetRun
	frags *fragments
}

// runKey names a library's rows in the fragments.
func runKey(l libraryRow) string { return l.ID + "\x00" + l.Name }

// sheetRun is the next n rows of a sheet: a library's usage, under key.
type sheetRun struct {
	key string
	n   int
}

func (s *Site) usageSheet(rows []libraryUsage, runs []sheetRun) sheet {
	if s.frags == nil {
		runs = nil
	}
	return sheet{rows: rows, platform: s.platform, runs: runs, frags: s.frags}
}

// fragments are a build's downloads' rows as written, per library and
// format, made once however many downloads ask. uses says how many
// downloads will ask for a library's (its own, its county's, the
// nation's): after the last, the fragment is let go, since all of them
// together are hundreds of megabytes. A library not in uses keeps its
// fragments; one asked for again after it was let go is made again, the
// same bytes.
type fragments struct {
	mu   sync.Mutex
	m    map[string]*fragment
	uses map[string]int // per run key
}

type fragment struct {
	once sync.Once
	left int // asks to come, when known
	b    []byte
	z    deflated
	cols []arrow.Array // a Parquet download's columns
	err  error
}

func newFragments(uses map[string]int) *fragments {
	return &fragments{m: map[string]*fragment{}, uses: uses}
}

// get is the run's fragment in format, made by build the first time it is
// asked for; without fragments (nil), build's every time.
func (f *fragments) get(run, format string, build func() ([]byte, error)) ([]byte, error) {
	if f == nil {
		return build()
	}
	fr := f.entry(run, format)
	fr.once.Do(func() { fr.b, fr.err = build() })
	return fr.b, fr.err
}

// getDeflated is get for a compressed fragment.
func (f *fragments) getDeflated(run, format string, build func() (deflated, error)) (deflated, error) {
	if f == nil {
		return build()
	}
	fr := f.entry(run, format)
	fr.once.Do(func() { fr.z, fr.err = build() })
	return fr.z, fr.err
}

// getColumns is get for a Parquet fragment's columns.
func (f *fragments) getColumns(run, format string, build func() ([]arrow.Array, error)) ([]arrow.Array, error) {
	if f == nil {
		return build()
	}
	fr := f.entry(run, format)
	fr.once.Do(func() { fr.cols, fr.err = build() })
	return fr.cols, fr.err
}

// fragmentFormats are the formats whose rows are kept as fragments.
var fragmentFormats = []string{"csv", "csv-machine", "xlsx", "parquet"}

// skip counts the runs' fragments as asked for by a download not made
// (unchanged), so that they are let go after their last real ask.
func (f *fragments) skip(runs []sheetRun) {
	if f == nil {
		return
	}
	for _, run := range runs {
		for _, format := range fragmentFormats {
			f.entry(run.key, format)
		}
	}
}

// entry is the fragment to make or read, counted as asked for.
func (f *fragments) entry(run, format string) *fragment {
	key := run + "\x00" + format
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := f.m[key]
	if fr == nil {
		fr = &fragment{left: f.uses[run]}
		f.m[key] = fr
	}
	if fr.left--; fr.left == 0 {
		delete(f.m, key) // the last ask: the caller holds it to the end
	}
	return fr
}

// machineHeader is the machine CSV's header: English, COUNTER's names.
var machineHeader = []string{"Library_ID", "Library_Name", "Month", "Platform", "Release", "Metric_Type", "Count", "Pooled", "Total"}

func (m messages) sheetHeader() []string {
	return []string{m.ColLibraryNumber, m.ColLibrary, m.Month, m.Platform, m.ColRelease, m.ColMetric, m.ColCount, m.ColPooled, m.ColTotal}
}

// csv writes the rows for a spreadsheet in the page's language (nb, nn:
// ";" between cells and a decimal comma, as Norwegian Excel expects), or
// for machines (",", ".", COUNTER names, ids).
func (sh sheet) csv(m messages, machine bool) ([]byte, error) {
	var buf bytes.Buffer
	err := sh.writeCSV(&buf, m, machine)
	return buf.Bytes(), err
}

// writeCSV writes as encoding/csv would (csvField), by hand: the national
// and county downloads have hundreds of thousands of rows, and a row's
// text cells repeat, so each is quoted once. A library's rows are the same
// bytes in its own, its county's and the nation's file: with a cache (a
// build's), each library's are written once and copied into the others.
func (sh sheet) writeCSV(out io.Writer, m messages, machine bool) error {
	comma, _ := csvSeparators(m, machine)
	header := m.sheetHeader()
	if machine {
		header = machineHeader
	}
	b := []byte("\ufeff") // Excel reads UTF-8 only with a BOM
	for i, h := range header {
		if i > 0 {
			b = append(b, comma)
		}
		b = appendCSVField(b, h, comma)
	}
	b = append(b, '\n')
	if _, err := out.Write(b); err != nil {
		return err
	}
	format := "csv"
	if machine {
		format = "csv-machine"
	}
	rest := sh.rows
	for _, run := range sh.runs {
		frag, err := sh.frags.get(run.key, format, func() ([]byte, error) {
			return sh.csvRows(make([]byte, 0, run.n*csvRowBytes), nil, rest[:run.n], m, machine)
		})
		if err != nil {
			return err
		}
		if _, err := out.Write(frag); err != nil {
			return err
		}
		rest = rest[run.n:]
	}
	b, err := sh.csvRows(b[:0], out, rest, m, machine)
	if err == nil {
		_, err = out.Write(b)
	}
	return err
}

// csvSeparators are the usage CSV's field separator and decimal mark:
// ";" and "," in a language that writes a decimal comma, "," and "." for
// machines.
func csvSeparators(m messages, machine bool) (comma byte, decimal string) {
	switch {
	case machine:
		return ',', "."
	case m.Decimal == ",":
		return ';', m.Decimal
	}
	return ',', m.Decimal
}

// csvRowBytes is about a CSV row's length, to size a library's fragment
// at once.
const csvRowBytes = 100

// csvRows appends the rows to b as CSV lines; with out, it writes b there
// as it grows, and returns what is left to write.
func (sh sheet) csvRows(b []byte, out io.Writer, rows []libraryUsage, m messages, machine bool) ([]byte, error) {
	comma, decimal := csvSeparators(m, machine)
	type cellKey struct {
		kind byte // 'i'd, 'n'ame, 'p'latform, 'r'elease, 'm'etric
		v    string
	}
	cells := map[cellKey][]byte{} // a text cell as written
	cell := func(kind byte, v string) []byte {
		key := cellKey{kind, v}
		if c, ok := cells[key]; ok {
			return c
		}
		shown := v
		switch {
		case kind == 'p' && !machine:
			shown = sh.platform(v)
		case kind == 'm' && !machine:
			shown = m.metric(v)
		}
		if kind != 'i' {
			shown = safeCell(shown)
		}
		c := appendCSVField(nil, shown, comma)
		cells[key] = c
		return c
	}
	num := func(b []byte, v float64) []byte {
		start := len(b)
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
		if decimal == "." {
			return b
		}
		if i := bytes.IndexByte(b[start:], '.'); i >= 0 && len(decimal) == 1 {
			b[start+i] = decimal[0]
		} else if i >= 0 {
			b = append(b[:start+i], append([]byte(decimal), b[start+i+1:]...)...)
		}
		return b
	}
	for _, r := range rows {
		if out != nil && len(b) > 64<<10 {
			if _, err := out.Write(b); err != nil {
				return nil, err
			}
			b = b[:0]
		}
		b = append(append(b, cell('i', r.ID)...), comma)
		b = append(append(b, cell('n', r.Name)...), comma)
		b = append(r.Month.AppendFormat(b, "2006-01"), comma)
		b = append(append(b, cell('p', r.Platform)...), comma)
		b = append(append(b, cell('r', r.Release)...), comma)
		b = append(append(b, cell('m', r.Metric)...), comma)
		b = append(strconv.AppendInt(b, r.Count, 10), comma)
		b = append(num(b, r.Pooled), comma)
		b = append(num(b, r.Total), '\n')
	}
	return b, nil
}

// appendCSVField appends field as encoding/csv's Writer writes it: quoted,
// its quotes doubled, when it holds the separator, a quote or a line
// break, begins with a space, or is \. (a line that ends a PostgreSQL COPY).
func appendCSVField(b []byte, field string, comma byte) []byte {
	quote := field == `\.`
	for i := 0; i < len(field) && !quote; i++ {
		c := field[i]
		quote = c == '\n' || c == '\r' || c == '"' || c == comma
	}
	if r, _ := utf8.DecodeRuneInString(field); field != "" && unicode.IsSpace(r) {
		quote = true
	}
	if !quote {
		return append(b, field...)
	}
	b = append(b, '"')
	for i := 0; i < len(field); i++ {
		if field[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, field[i])
	}
	return append(b, '"')
}

// safeCell keeps vendor text from being read as a formula by a spreadsheet:
// a cell that starts with = + - @ (or a tab or CR, which some spreadsheets
// skip before looking), or their full-width forms, which some spreadsheets
// fold to ASCII, gets a leading apostrophe.
func safeCell(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if s != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return "'" + s
	}
	return s
}

// xlsx writes the rows as a worksheet a librarian can filter at once: the
// header frozen, a table's filter buttons, columns wide enough, months as
// dates. Text cells are strings (never formulas), counts numbers.
func (sh sheet) xlsx(m messages) ([]byte, error) {
	var buf bytes.Buffer
	err := sh.writeXLSX(&buf, m)
	return buf.Bytes(), err
}
