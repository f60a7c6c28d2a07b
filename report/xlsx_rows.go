package report

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"strings"
)

// The usage workbook repeats every library's rows in its county's and the
// nation's: its rows are written so that a library's are the same bytes in
// every workbook (text inline, no cell references, which are optional), and
// those bytes are compressed once, as deflate blocks that end on a byte
// (a sync flush) and refer to nothing before them, so that they can be
// joined into any workbook's worksheet as they are.

// deflated is a piece of a worksheet, compressed on its own.
type deflated struct {
	z   []byte // deflate blocks, none final, ending on a byte
	crc uint32 // of the uncompressed piece
	n   int64  // uncompressed length
}

// deflatePiece compresses b on its own (no history before it).
func deflatePiece(b []byte) (deflated, error) {
	var buf bytes.Buffer
	fw, err := newFlate(&buf)
	if err != nil {
		return deflated{}, err
	}
	pf := fw.(pooledFlate)
	if _, err := pf.Write(b); err != nil {
		return deflated{}, err
	}
	if err := pf.Flush(); err != nil {
		return deflated{}, err
	}
	flateWriters.Put(pf.Writer) // not closed: a final block would end the stream
	return deflated{z: buf.Bytes(), crc: crc32.ChecksumIEEE(b), n: int64(len(b))}, nil
}

// deflateEnd is an empty final block (fixed Huffman): it ends the stream.
var deflateEnd = []byte{0x03, 0x00}

// xlsxRowBytes is about a worksheet row's length, to size a library's
// fragment at once.
const xlsxRowBytes = 480

// usageRowsXML appends the rows as worksheet XML; each text cell is
// escaped once per value.
func (sh sheet) usageRowsXML(b []byte, rows []libraryUsage, m messages) []byte {
	texts := map[[2]string][]byte{}
	text := func(b []byte, kind, v string, shown func(string) string) []byte {
		k := [2]string{kind, v}
		c, ok := texts[k]
		if !ok {
			c = inlineCell(nil, safeCell(shown(v)), "")
			texts[k] = c
		}
		return append(b, c...)
	}
	same := func(v string) string { return v }
	for _, r := range rows {
		b = append(b, `<row>`...)
		b = text(b, "i", r.ID, same)
		b = text(b, "n", r.Name, same)
		b = append(b, `<c s="2"><v>`...)
		b = append(strconv.AppendFloat(b, excelDate(r.Month), 'f', -1, 64), `</v></c>`...)
		b = text(b, "p", r.Platform, sh.platform)
		b = text(b, "r", r.Release, same)
		b = text(b, "m", r.Metric, m.metric)
		b = append(b, `<c><v>`...)
		b = append(strconv.AppendInt(b, r.Count, 10), `</v></c>`...)
		b = floatCell(b, r.Pooled)
		b = append(floatCell(b, r.Total), `</row>`...)
	}
	return b
}

// inlineCell appends a cell holding s as inline text, with attrs (a style) or none.
func inlineCell(b []byte, s, attrs string) []byte {
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(s)) // also replaces what XML cannot hold
	b = append(append(append(b, `<c`...), attrs...), ` t="inlineStr"><is><t xml:space="preserve">`...)
	return append(append(b, esc.String()...), `</t></is></c>`...)
}

// floatCell appends a number's cell; no number is an empty cell, never a 0
// (and still a cell: without references, cells are placed by order).
func floatCell(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, `<c/>`...)
	}
	b = append(b, `<c><v>`...)
	return append(strconv.AppendFloat(b, v, 'g', -1, 64), `</v></c>`...)
}

// writeXLSX writes the usage workbook: the rows as usageRowsXML, a
// library's compressed once per build (sh.frags) and joined as they are.
func (sh sheet) writeXLSX(w io.Writer, m messages) error {
	header := m.sheetHeader()
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, newFlate)
	if err := xlsxParts(zw, m.Uses); err != nil {
		return err
	}
	head := append(xlsxSheetStart([]float64{16, 32, 10, 28, 10, 36, 12, 14, 12}), `<row>`...)
	for _, h := range header {
		head = inlineCell(head, h, ` s="1"`)
	}
	head = append(head, `</row>`...)
	pieces := []deflated{}
	add := func(b []byte) error {
		d, err := deflatePiece(b)
		pieces = append(pieces, d)
		return err
	}
	if err := add(head); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	rest := sh.rows
	for _, run := range sh.runs {
		build := func() (deflated, error) {
			return deflatePiece(sh.usageRowsXML(make([]byte, 0, run.n*xlsxRowBytes), rest[:run.n], m))
		}
		d, err := sh.frags.getDeflated(run.key, "xlsx", build)
		if err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
		pieces = append(pieces, d)
		rest = rest[run.n:]
	}
	if len(rest) > 0 {
		if err := add(sh.usageRowsXML(nil, rest, m)); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := add([]byte(xlsxSheetTail)); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	fh := &zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate}
	for i, p := range pieces {
		if i == 0 {
			fh.CRC32 = p.crc
		} else {
			fh.CRC32 = crc32Combine(fh.CRC32, p.crc, p.n)
		}
		fh.CompressedSize64 += uint64(len(p.z))
		fh.UncompressedSize64 += uint64(p.n)
	}
	fh.CompressedSize64 += uint64(len(deflateEnd))
	f, err := zw.CreateRaw(fh)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for _, p := range pieces {
		if _, err := f.Write(p.z); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if _, err := f.Write(deflateEnd); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := xlsxTable(zw, header, len(sh.rows)+1); err != nil {
		return err
	}
	// No shared strings (every text is inline), but the part the content
	// types name is there.
	if err := writePart(zw, "xl/sharedStrings.xml", xml.Header+`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>`); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// crc32Combine is the CRC-32 (IEEE) of a piece of crc1 followed by a
// piece of n bytes of crc2, as zlib's crc32_combine: crc1 advanced over
// n zero bytes by squaring the shift-by-one operator.
func crc32Combine(crc1, crc2 uint32, n int64) uint32 {
	if n <= 0 {
		return crc1
	}
	var even, odd [32]uint32
	odd[0] = 0xedb88320 // the operator for one zero bit
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(even[:], odd[:]) // two zero bits
	gf2Square(odd[:], even[:]) // four
	for {
		gf2Square(even[:], odd[:]) // one zero byte, then two, four, …
		if n&1 != 0 {
			crc1 = gf2Times(even[:], crc1)
		}
		n >>= 1
		if n == 0 {
			break
		}
		gf2Square(odd[:], even[:])
		if n&1 != 0 {
			crc1 = gf2Times(odd[:], crc1)
		}
		n >>= 1
		if n == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat []uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat []uint32) {
	for i := range 32 {
		square[i] = gf2Times(mat, mat[i])
	}
}
