package counter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	// A tab anywhere in the first lines makes it TSV: TSV is what COUNTER
	// asks for, and CSV rarely contains tabs.
	head, _ := br.Peek(br.Size())
	sep := byte(',')
	if bytes.IndexByte(head, '\t') >= 0 {
		sep = '\t'
	}
	src := &delimSource{br: br, sep: sep, maxLine: opts.MaxLineBytes, maxCols: opts.MaxColumns}
	return readTabular(ctx, src, opts, emit, doc)
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
// (a field with a line break), within the line length limit.
func (s *delimSource) quoted(line []byte) ([][]byte, error) {
	s.lbuf = append(s.lbuf[:0], line...)
	s.fbuf = s.fbuf[:0]
	s.offs = s.offs[:0]
	start := s.n
	i := 0
	for {
		// One field from lbuf[i:].
		if i < len(s.lbuf) && s.lbuf[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(s.lbuf[i:], '"')
				if j < 0 {
					// The quote is still open: the field goes on on the next line.
					s.fbuf = append(s.fbuf, s.lbuf[i:]...)
					s.fbuf = append(s.fbuf, '\n')
					i = len(s.lbuf)
					more, err := s.br.ReadSlice('\n')
					if errors.Is(err, bufio.ErrBufferFull) || len(s.lbuf)+len(more) > s.maxLine {
						return nil, fmt.Errorf("line %d: quoted field longer than %d bytes", start, s.maxLine)
					}
					if len(more) == 0 {
						// The file ends inside a quote: keep what there is.
						s.offs = append(s.offs, len(s.fbuf))
						return s.split(), nil
					}
					s.n++
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
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: opts.MaxXLSXBytes,
		UnzipXMLSizeLimit: min(opts.MaxXLSXBytes, 16<<20)})
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return err
		}
		return fmt.Errorf("parse xlsx: %w", err)
	}
	defer f.Close()
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
