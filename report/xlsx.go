package report

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
)

// xlsxSheet streams a workbook of one worksheet: a frozen bold header, a
// table (Excel's filter buttons) over the rows, column widths, and cells
// that are shared strings, numbers or dates. Written by hand rather than
// with excelize, which took most of a site's build for the national and
// county downloads (hundreds of thousands of rows each): the rows go
// straight into the zip, each text once into the shared strings.
type xlsxSheet struct {
	zw      *zip.Writer
	w       *bufio.Writer // the worksheet entry
	name    string        // the worksheet's name
	header  []string
	cols    []string // the columns' letters
	strings map[string]int
	order   []string
	cells   int // string cells written, for the sst's count
	row     int
	buf     []byte
}

// xlsxCell is one cell of a row: a string, an int64, a float64 or a
// time.Time (a month, shown yyyy-mm).
type xlsxCell = any

const (
	xlsxStyleBold = 1
	xlsxStyleDate = 2
)

// newXLSXSheet starts a workbook on w whose one sheet, name, has the
// header row and the column widths.
func newXLSXSheet(w io.Writer, name string, header []string, widths []float64) (*xlsxSheet, error) {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, newFlate)
	x := &xlsxSheet{zw: zw, name: name, header: header, strings: map[string]int{}}
	for i := range header {
		x.cols = append(x.cols, columnName(i))
	}
	if err := xlsxParts(zw, name); err != nil {
		return nil, err
	}
	f, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	x.w = bufio.NewWriterSize(f, 64<<10)
	x.w.Write(xlsxSheetStart(widths))
	head := make([]xlsxCell, len(header))
	for i, h := range header {
		head[i] = h
	}
	x.writeRow(head, xlsxStyleBold)
	return x, nil
}

// xlsxSheetStart begins the worksheet, its columns as wide as widths,
// up to its rows.
func xlsxSheetStart(widths []float64) []byte {
	b := []byte(xlsxSheetHead)
	for i, wd := range widths {
		b = fmt.Appendf(b, `<col min="%d" max="%d" width="%s" customWidth="1"/>`, i+1, i+1, strconv.FormatFloat(wd, 'f', -1, 64))
	}
	return append(b, `</cols><sheetData>`...)
}

// xlsxParts writes the workbook's small parts, before its worksheet.
func xlsxParts(zw *zip.Writer, name string) error {
	for _, part := range [][2]string{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", fmt.Sprintf(xlsxWorkbook, xmlAttr(name))},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/styles.xml", xlsxStyles},
		{"xl/worksheets/_rels/sheet1.xml.rels", xlsxSheetRels},
	} {
		if err := writePart(zw, part[0], part[1]); err != nil {
			return err
		}
	}
	return nil
}

// writePart writes a small part of the workbook, stored: compressing a few
// hundred bytes costs more than it saves.
func writePart(zw *zip.Writer, name, body string) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err == nil {
		_, err = io.WriteString(f, body)
	}
	if err != nil {
		return fmt.Errorf("xlsx %s: %w", name, err)
	}
	return nil
}

// xlsxTable writes the table (Excel's filter buttons) over the header and rows.
func xlsxTable(zw *zip.Writer, header []string, rows int) error {
	ref := "A1:" + columnName(len(header)-1) + strconv.Itoa(max(rows, 2))
	var t strings.Builder
	fmt.Fprintf(&t, `%s<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="BibStat" displayName="BibStat" ref="%s">`+
		`<autoFilter ref="%s"/><tableColumns count="%d">`, xml.Header, ref, ref, len(header))
	for i, h := range header {
		fmt.Fprintf(&t, `<tableColumn id="%d" name="%s"/>`, i+1, xmlAttr(h))
	}
	t.WriteString(`</tableColumns><tableStyleInfo name="TableStyleLight1" showFirstColumn="0" showLastColumn="0" showRowStripes="1" showColumnStripes="0"/></table>`)
	return writePart(zw, "xl/tables/table1.xml", t.String())
}

// Row writes one row after the header.
func (x *xlsxSheet) Row(cells ...xlsxCell) { x.writeRow(cells, 0) }

func (x *xlsxSheet) writeRow(cells []xlsxCell, style int) {
	x.startRow()
	for i, c := range cells[:min(len(cells), len(x.cols))] {
		switch v := c.(type) {
		case string:
			x.text(i, v, style)
		case int64:
			x.int(i, v, style)
		case float64:
			x.float(i, v, style)
		case time.Time:
			x.month(i, v)
		}
	}
	x.endRow()
}

// startRow begins the next row; text, int, float and month add its cells
// (typed, so that a download's millions of cells are not boxed), endRow
// writes it.
func (x *xlsxSheet) startRow() {
	x.row++
	b := append(x.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(x.row), 10)
	x.buf = append(b, `">`...)
}

func (x *xlsxSheet) ref(i, style int) {
	b := append(x.buf, `<c r="`...)
	b = append(b, x.cols[i]...)
	b = strconv.AppendInt(b, int64(x.row), 10)
	b = append(b, '"')
	if style != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
		b = append(b, '"')
	}
	x.buf = b
}

func (x *xlsxSheet) text(i int, v string, style int) { x.shared(i, x.stringID(v), style) }

// stringID is v's number in the shared strings, given it the first time.
func (x *xlsxSheet) stringID(v string) int {
	id, ok := x.strings[v]
	if !ok {
		id = len(x.order)
		x.strings[v] = id
		x.order = append(x.order, v)
	}
	return id
}

// shared adds a cell of the shared string id.
func (x *xlsxSheet) shared(i, id, style int) {
	x.cells++
	x.ref(i, style)
	x.buf = append(strconv.AppendInt(append(x.buf, ` t="s"><v>`...), int64(id), 10), `</v></c>`...)
}

func (x *xlsxSheet) int(i int, v int64, style int) {
	x.ref(i, style)
	x.buf = append(strconv.AppendInt(append(x.buf, `><v>`...), v, 10), `</v></c>`...)
}

func (x *xlsxSheet) float(i int, v float64, style int) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return // no number is no cell, never a 0
	}
	x.ref(i, style)
	x.buf = append(strconv.AppendFloat(append(x.buf, `><v>`...), v, 'g', -1, 64), `</v></c>`...)
}

func (x *xlsxSheet) month(i int, v time.Time) {
	x.ref(i, xlsxStyleDate)
	x.buf = append(strconv.AppendFloat(append(x.buf, `><v>`...), excelDate(v), 'f', -1, 64), `</v></c>`...)
}

func (x *xlsxSheet) endRow() {
	x.buf = append(x.buf, `</row>`...)
	x.w.Write(x.buf) // a failed write is the zip's error, seen by Close
}

// flateWriters are deflate writers to reuse: each holds about a megabyte
// of tables, and a site writes some thousand workbooks.
var flateWriters sync.Pool

// newFlate is the fastest deflate, from the pool: a download is written
// at every build and read rarely. klauspost/compress's (already a module
// of the build, for arrow-go) deflates a worksheet twice as fast as the
// standard library's at its fastest, for 0.4 % more bytes; its Flush ends
// on a byte as the standard one's does, which the pieces rely on.
func newFlate(out io.Writer) (io.WriteCloser, error) {
	if fw, ok := flateWriters.Get().(*flate.Writer); ok {
		fw.Reset(out)
		return pooledFlate{fw}, nil
	}
	fw, err := flate.NewWriter(out, flate.BestSpeed)
	return pooledFlate{fw}, err
}

// pooledFlate returns its writer to the pool when closed.
type pooledFlate struct{ *flate.Writer }

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flateWriters.Put(p.Writer)
	return err
}

// excelDate is t as Excel's date serial: days since 1899-12-30.
func excelDate(t time.Time) float64 {
	t = t.UTC()
	days := t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
	return math.Round(days*86400) / 86400
}

// columnName is column i's letters: A, B, …, Z, AA, ….
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}

// Close ends the sheet, writes the table over its rows and the shared
// strings, and closes the zip.
func (x *xlsxSheet) Close() error {
	x.w.WriteString(xlsxSheetTail)
	if err := x.w.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := xlsxTable(x.zw, x.header, x.row); err != nil {
		return err
	}
	f, err := x.zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, `%s<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, xml.Header, x.cells, len(x.order))
	for _, s := range x.order {
		w.WriteString(`<si><t xml:space="preserve">`)
		xml.EscapeText(w, []byte(s)) // also replaces what XML cannot hold
		w.WriteString(`</t></si>`)
	}
	w.WriteString(`</sst>`)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := x.zw.Close(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// xmlAttr escapes s for an attribute value.
func xmlAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

// xlsxSheetHead begins the worksheet, up to its column widths; xlsxSheetTail ends it.
const (
	xlsxSheetHead = xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>`
	xlsxSheetTail = `</sheetData><tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>`
)

const xlsxContentTypes = xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>` +
	`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
	`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
	`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
	`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>` +
	`<Override PartName="/xl/tables/table1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>` +
	`</Types>`

const xlsxRootRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
	`</Relationships>`

const xlsxWorkbook = xml.Header + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
	`<bookViews><workbookView/></bookViews><sheets><sheet name="%s" sheetId="1" r:id="rId1"/></sheets></workbook>`

const xlsxWorkbookRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
	`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
	`</Relationships>`

const xlsxSheetRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/table" Target="../tables/table1.xml"/>` +
	`</Relationships>`

// xlsxStyles has the default cell format (0), bold (1) and a month as yyyy-mm (2).
const xlsxStyles = xml.Header + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm"/></numFmts>` +
	`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
