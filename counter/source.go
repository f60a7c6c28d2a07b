package counter

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xuri/excelize/v2"
)

// rowSource yields a tabular report's rows as cells. The cells are valid
// only until the next call, so that a row costs no allocation.
type rowSource interface {
	next() ([][]byte, error) // io.EOF at the end
	line() int               // 1-based number of the row last returned
}

// delimSource splits TSV or CSV lines. Unquoted lines (nearly all) are split
// in place with no copying; quoted fields are unescaped into a scratch buffer.
type delimSource struct {
	br      *bufio.Reader
	sep     byte
	maxLine int
	maxCols int
	n       int
	cells   [][]byte
	lbuf    []byte // a quoted line, owned (ReadSlice's buffer is not)
	fbuf    []byte // unescaped fields
	offs    []int
	ubuf    []byte // cells made valid UTF-8
	uends   []int
}

func readDelimited(ctx context.Context, br *bufio.Reader, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	head, _ := br.Peek(br.Size())
	src := &delimSource{br: br, sep: detectSep(head), maxLine: opts.MaxLineBytes, maxCols: opts.MaxColumns}
	return readTabular(ctx, src, opts, emit, doc)
}

// seps are the separators vendors use: TAB (what COUNTER asks for), ','
// and ';' (what European spreadsheets write as CSV).
var seps = []byte{'\t', ';', ','}

// detectSep decides a file's separator once, from its first lines, so
// that no line is split by a guess of its own. The column headings row
// decides when it is in head: the separator that makes one of its cells
// Metric_Type (or User Activity, Reporting_Period_Total), and the most
// cells if several do. Otherwise the first separator outside quotes on the
// first non-empty line, which holds a header label or a heading.
func detectSep(head []byte) byte {
	head = bytes.TrimPrefix(head, bom)
	lines := bytes.Split(head, []byte("\n"))
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut by the peek
	}
	for _, l := range lines {
		best, bestN := byte(0), 0
		for _, sep := range seps {
			cells := splitQuoted(trimEOL(l), sep)
			if len(cells) > bestN && isHeadings(cells) {
				best, bestN = sep, len(cells)
			}
		}
		if best != 0 {
			return best
		}
	}
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		quoted := false
		for _, c := range l {
			switch {
			case c == '"':
				quoted = !quoted
			case !quoted && bytes.IndexByte(seps, c) >= 0:
				return c
			}
		}
		break
	}
	return ','
}

// quotedTabular says whether head, which begins with a quote, is a
// tabular file whose first cell is quoted ("Report_Name","Platform Master
// Report") rather than a JSON string document: the first quoted text
// closes on the first line and a separator follows it. A JSON string
// escapes its quotes with a backslash, so a closing quote after one is no
// cell's end.
func quotedTabular(head []byte) bool {
	if len(head) == 0 || head[0] != '"' {
		return false
	}
	for i := 1; i < len(head) && head[i] != '\n'; i++ {
		if head[i] != '"' {
			continue
		}
		if i+1 < len(head) && head[i+1] == '"' { // "" is a quote inside a cell
			i++
			continue
		}
		return head[i-1] != '\\' && i+1 < len(head) && bytes.IndexByte(seps, head[i+1]) >= 0
	}
	return false
}

// splitQuoted splits one line at sep outside quotes, for detectSep only
// (the cells keep their quotes, which isHeadings ignores).
func splitQuoted(l []byte, sep byte) [][]byte {
	var cells [][]byte
	quoted, start := false, 0
	for i, c := range l {
		switch {
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			cells = append(cells, l[start:i])
			start = i + 1
		}
	}
	return append(cells, l[start:])
}

func (s *delimSource) line() int { return s.n }

// next returns the next line's cells, each valid UTF-8: text in another
// encoding (a Latin-1 export, a sequence cut by the vendor) would make
// DuckDB refuse the whole Parquet file the rows go to, so each invalid byte
// becomes U+FFFD, as encoding/json does for JSON reports. The raw object
// keeps the vendor's bytes.
func (s *delimSource) next() ([][]byte, error) {
	cells, err := s.nextRaw()
	if err != nil {
		return cells, err
	}
	for i, c := range cells {
		if !utf8.Valid(c) {
			s.validate(cells[i:])
			break
		}
	}
	return cells, nil
}

// validate replaces cells with valid UTF-8 copies in s.ubuf.
func (s *delimSource) validate(cells [][]byte) {
	s.ubuf, s.uends = s.ubuf[:0], s.uends[:0]
	for _, c := range cells {
		for len(c) > 0 {
			r, size := utf8.DecodeRune(c)
			if r == utf8.RuneError && size == 1 {
				s.ubuf = utf8.AppendRune(s.ubuf, utf8.RuneError)
			} else {
				s.ubuf = append(s.ubuf, c[:size]...)
			}
			c = c[size:]
		}
		s.uends = append(s.uends, len(s.ubuf))
	}
	start := 0
	for i, end := range s.uends {
		cells[i] = s.ubuf[start:end:end]
		start = end
	}
}

func (s *delimSource) nextRaw() ([][]byte, error) {
	line, err := s.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("line %d: longer than %d bytes", s.n+1, s.maxLine)
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("line %d: %w", s.n+1, err)
	}
	s.n++
	if s.n == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	line = trimEOL(line)
	s.cells = s.cells[:0]
	if bytes.IndexByte(line, '"') < 0 {
		for {
			i := bytes.IndexByte(line, s.sep)
			if i < 0 {
				s.cells = append(s.cells, line)
				break
			}
			s.cells = append(s.cells, line[:i])
			line = line[i+1:]
			if len(s.cells) > s.maxCols {
				return nil, fmt.Errorf("line %d: more than %d columns", s.n, s.maxCols)
			}
		}
		return s.cells, nil
	}
	return s.quoted(line)
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// quoted splits a line with quoted fields, reading on while a quote is open
// (a CSV field with a line break), within the line length limit. A quote
// that is never closed fails with the line it opened on, rather than
// swallowing the rest of the file into one cell: at the end of the file,
// at the end of its line in TSV (COUNTER's cells hold no line breaks, and
// TSV writers quote only to protect a tab), and in CSV when what closes
// it after a line break is not followed by a separator.
func (s *delimSource) quoted(line []byte) ([][]byte, error) {
	s.lbuf = append(s.lbuf[:0], line...)
	s.fbuf = s.fbuf[:0]
	s.offs = s.offs[:0]
	start := s.n
	i := 0
	for {
		// One field from lbuf[i:].
		if i < len(s.lbuf) && s.lbuf[i] == '"' {
			opened, spanned := s.n, false
			i++
			for {
				j := bytes.IndexByte(s.lbuf[i:], '"')
				if j < 0 {
					// The quote is still open: the field goes on on the next line.
					if s.sep == '\t' {
						return nil, fmt.Errorf("line %d: %w", opened, errUnclosedQuote)
					}
					s.fbuf = append(s.fbuf, s.lbuf[i:]...)
					s.fbuf = append(s.fbuf, '\n')
					i = len(s.lbuf)
					more, err := s.br.ReadSlice('\n')
					if errors.Is(err, bufio.ErrBufferFull) || len(s.lbuf)+len(more) > s.maxLine {
						return nil, fmt.Errorf("line %d: quoted field longer than %d bytes", opened, s.maxLine)
					}
					if len(more) == 0 {
						return nil, fmt.Errorf("line %d: %w", opened, errUnclosedQuote)
					}
					s.n++
					spanned = true
					s.lbuf = append(s.lbuf, trimEOL(more)...)
					continue
				}
				s.fbuf = append(s.fbuf, s.lbuf[i:i+j]...)
				i += j + 1
				if i < len(s.lbuf) && s.lbuf[i] == '"' { // "" is a quote
					s.fbuf = append(s.fbuf, '"')
					i++
					continue
				}
				if spanned && i < len(s.lbuf) && s.lbuf[i] != s.sep {
					return nil, fmt.Errorf("line %d: %w", opened, errUnclosedQuote)
				}
				break
			}
		}
		// Up to the separator: an unquoted field, or whatever follows a
		// closing quote (it is kept).
		j := bytes.IndexByte(s.lbuf[i:], s.sep)
		if j < 0 {
			j = len(s.lbuf) - i
		}
		s.fbuf = append(s.fbuf, s.lbuf[i:i+j]...)
		i += j
		s.offs = append(s.offs, len(s.fbuf))
		if len(s.offs) > s.maxCols {
			return nil, fmt.Errorf("line %d: more than %d columns", start, s.maxCols)
		}
		if i >= len(s.lbuf) {
			return s.split(), nil
		}
		i++ // the separator
		if i == len(s.lbuf) {
			s.offs = append(s.offs, len(s.fbuf)) // a trailing empty field
			return s.split(), nil
		}
	}
}

// errUnclosedQuote is a quoted cell whose closing quote is missing.
var errUnclosedQuote = errors.New("a quote opened on this line is never closed")

func (s *delimSource) split() [][]byte {
	s.cells = s.cells[:0]
	prev := 0
	for _, o := range s.offs {
		s.cells = append(s.cells, s.fbuf[prev:o])
		prev = o
	}
	return s.cells
}

// xlsxSource reads the first worksheet with excelize's streaming row
// iterator, so that only the shared strings and one row are in memory.
type xlsxSource struct {
	rows    *excelize.Rows
	n       int
	maxCols int
	cells   [][]byte
}

func readXLSX(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	// excelize needs the whole zip (its directory is at the end); the input
	// is bounded by MaxBytes and the unpacked size by MaxXLSXBytes.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: opts.MaxXLSXBytes,
		UnzipXMLSizeLimit: min(opts.MaxXLSXBytes, 16<<20)})
	if err != nil {
		return fmt.Errorf("parse xlsx: %w", err)
	}
	defer f.Close()
	// excelize's row iterator stops quietly where a sheet's XML breaks, as
	// if the sheet ended there: every part is checked whole first, so
	// that a broken workbook fails instead of loading the rows before the break.
	if err := checkXLSXParts(data, opts.MaxXLSXBytes); err != nil {
		return err
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return errors.New("parse xlsx: no worksheet")
	}
	if len(sheets) > 1 {
		doc.warnf("workbook has %d worksheets; only %q is read", len(sheets), sheets[0])
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return fmt.Errorf("parse xlsx: %w", err)
	}
	defer rows.Close()
	return readTabular(ctx, &xlsxSource{rows: rows, maxCols: opts.MaxColumns}, opts, emit, doc)
}

// checkXLSXParts checks that every XML part of the workbook is
// well-formed, reading at most max bytes of them in all.
func checkXLSXParts(data []byte, max int64) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("parse xlsx: %w", err)
	}
	left := max
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("parse xlsx: %s: %w", zf.Name, err)
		}
		lr := &io.LimitedReader{R: rc, N: left + 1}
		err = checkXML(lr)
		rc.Close()
		if left = lr.N - 1; left < 0 {
			return fmt.Errorf("parse xlsx: unpacks to more than %d bytes", max)
		}
		if err != nil {
			return fmt.Errorf("parse xlsx: %s is broken: %w", zf.Name, err)
		}
	}
	return nil
}

// checkXML reads r to its end as XML, token by token.
func checkXML(r io.Reader) error {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q: XLSX parts are UTF-8", label)
	}
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func (s *xlsxSource) line() int { return s.n }

func (s *xlsxSource) next() ([][]byte, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, fmt.Errorf("parse xlsx row %d: %w", s.n+1, err)
		}
		return nil, io.EOF
	}
	s.n++
	// Raw values: a month heading stored as a date comes as its serial,
	// which ParseMonth understands, and counts come unformatted.
	cols, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("parse xlsx row %d: %w", s.n, err)
	}
	if len(cols) > s.maxCols {
		return nil, fmt.Errorf("row %d: more than %d columns", s.n, s.maxCols)
	}
	s.cells = s.cells[:0]
	for _, c := range cols {
		s.cells = append(s.cells, []byte(c))
	}
	return s.cells, nil
}
