package mapping

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// cell is one spreadsheet or CSV cell. numeric marks a spreadsheet number
// (or date), whose text is the raw value, e.g. "1234.5" or a date serial.
type cell struct {
	text    string
	numeric bool
}

// tableRow is one row of a sheet with its 1-based number as a person
// opening the file sees it (the line in a CSV, the row in a sheet).
type tableRow struct {
	num   int
	cells []cell
}

type table struct {
	sheet string // "" for CSV
	rows  []tableRow
}

// Limits bound what one file may make us hold. They are far above any
// vendor export and exist so a hostile or broken file fails cleanly.
type Limits struct {
	MaxFileBytes int64 // the uploaded file
	MaxRows      int   // rows of the table
	MaxColumns   int   // cells of one row
	MaxCellBytes int   // one cell's text
	MaxUnits     int   // (report, library, month) units one file may fill
}

// DefaultLimits are used for any zero field of Limits.
var DefaultLimits = Limits{MaxFileBytes: 64 << 20, MaxRows: 1_000_000, MaxColumns: 1024, MaxCellBytes: 4096, MaxUnits: 50_000}

func (l Limits) OrDefault() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultLimits.MaxFileBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultLimits.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultLimits.MaxColumns
	}
	if l.MaxCellBytes <= 0 {
		l.MaxCellBytes = DefaultLimits.MaxCellBytes
	}
	if l.MaxUnits <= 0 {
		l.MaxUnits = DefaultLimits.MaxUnits
	}
	return l
}

// IsXLSX: an XLSX file is a zip archive.
func IsXLSX(data []byte) bool { return bytes.HasPrefix(data, []byte("PK\x03\x04")) }

func readTable(ctx context.Context, data []byte, m *Mapping, lim Limits) (*table, error) {
	if int64(len(data)) > lim.MaxFileBytes {
		return nil, fmt.Errorf("file is larger than %d bytes", lim.MaxFileBytes)
	}
	format := m.Format
	if format == "" {
		format = "csv"
		if IsXLSX(data) {
			format = "xlsx"
		}
	}
	if format == "xlsx" {
		return readXLSX(ctx, data, m.Sheet, lim)
	}
	if IsXLSX(data) {
		return nil, errors.New("the mapping says csv but the file is a spreadsheet (xlsx)")
	}
	return readCSV(ctx, data, m.Delimiter, m.HeaderRow, lim)
}

func readCSV(ctx context.Context, data []byte, delim string, headerRow int, lim Limits) (*table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		// Norwegian spreadsheets saved as CSV on Windows are Windows-1252.
		dec, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("decode windows-1252: %w", err)
		}
		data = dec
	}
	comma := ';'
	if delim != "" {
		comma, _ = utf8.DecodeRuneInString(delim)
	} else {
		comma = sniffDelimiter(data, headerRow)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	t := &table{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(t.rows) >= lim.MaxRows {
			return nil, fmt.Errorf("more than %d rows", lim.MaxRows)
		}
		if len(rec) > lim.MaxColumns {
			return nil, fmt.Errorf("row %d: more than %d columns", line, lim.MaxColumns)
		}
		cells := make([]cell, len(rec))
		for i, s := range rec {
			if len(s) > lim.MaxCellBytes {
				return nil, fmt.Errorf("row %d: column %s: cell longer than %d bytes", line, colName(i), lim.MaxCellBytes)
			}
			cells[i] = cell{text: s}
		}
		t.rows = append(t.rows, tableRow{num: line, cells: cells})
	}
	return t, nil
}

// sniffDelimiter picks the most frequent of ; , tab and | in the header
// line (or the first line, if the file is shorter).
func sniffDelimiter(data []byte, headerRow int) rune {
	lines := strings.SplitN(string(data[:min(len(data), 64<<10)]), "\n", headerRow+1)
	line := lines[0]
	if headerRow-1 < len(lines) {
		line = lines[headerRow-1]
	}
	best, n := ';', 0
	for _, c := range []rune{';', '\t', ',', '|'} {
		if k := strings.Count(line, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

func readXLSX(ctx context.Context, data []byte, sheet string, lim Limits) (t *table, err error) {
	// excelize is a large parser of hostile input: a panic in it must
	// reject the file, not stop the nightly run.
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("read xlsx: %v", r)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    lim.MaxFileBytes * 16,
		UnzipXMLSizeLimit: lim.MaxFileBytes * 4,
	})
	if err != nil {
		return nil, fmt.Errorf("open xlsx: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if sheet == "" {
		if len(sheets) == 0 {
			return nil, errors.New("the workbook has no sheets")
		}
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		return nil, fmt.Errorf("no sheet %q; the workbook has %q", sheet, sheets)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("sheet %s: %w", sheet, err)
	}
	defer rows.Close()
	t = &table{sheet: sheet}
	for num := 1; rows.Next(); num++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if num > lim.MaxRows {
			return nil, fmt.Errorf("sheet %s: more than %d rows", sheet, lim.MaxRows)
		}
		vals, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("sheet %s: row %d: %w", sheet, num, err)
		}
		if len(vals) > lim.MaxColumns {
			return nil, fmt.Errorf("sheet %s: row %d: more than %d columns", sheet, num, lim.MaxColumns)
		}
		cells := make([]cell, len(vals))
		for i, s := range vals {
			if len(s) > lim.MaxCellBytes {
				return nil, fmt.Errorf("sheet %s: row %d: column %s: cell longer than %d bytes", sheet, num, colName(i), lim.MaxCellBytes)
			}
			cells[i] = cell{text: s}
			if s == "" {
				continue
			}
			name, _ := excelize.CoordinatesToCellName(i+1, num)
			typ, err := f.GetCellType(sheet, name)
			if err != nil {
				return nil, fmt.Errorf("sheet %s: cell %s: %w", sheet, name, err)
			}
			// In OOXML a cell without a type is a number; dates are numbers too.
			cells[i].numeric = typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber || typ == excelize.CellTypeDate
		}
		t.rows = append(t.rows, tableRow{num: num, cells: cells})
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("sheet %s: %w", sheet, err)
	}
	return t, nil
}

// colName is the spreadsheet letter of a 0-based column: 0 → A, 26 → AA.
func colName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}
