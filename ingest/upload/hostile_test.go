package upload

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// hostileMapping is a plain mapping: library by number, one column per month.
const hostileMapping = `vendor: hostile
platform: Hostile
format: csv
delimiter: ","
header_row: 1
library:
  column: Bibnr
  by: bibnr
month:
  unpivot: true
metric: Total_Item_Requests
columns:
  title: Tittel
constants:
  data_type: Database_Full
  access_method: Regular
`

func hostile(t *testing.T) *Mapping {
	t.Helper()
	m, err := ParseMapping(strings.NewReader(hostileMapping), "hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type upRow struct {
	title string
	count int64
}

func readMapped(t *testing.T, m *Mapping, data []byte, lim Limits) (*Result, []upRow, error) {
	t.Helper()
	var rows []upRow
	res, err := m.Read(context.Background(), data, ReadOptions{Name: "hostile.csv", Limits: lim}, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		ti := rec.Column(rec.Schema().FieldIndices(schemas.ColTitle)[0]).(*array.String)
		ci := rec.Column(rec.Schema().FieldIndices("count")[0]).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, upRow{ti.Value(i), ci.Value(i)})
		}
		return nil
	})
	return res, rows, err
}

// TestHostileUploads: each hostile file gets a clear error, a reject or a
// safe result, in bounded memory.
func TestHostileUploads(t *testing.T) {
	m := hostile(t)
	million := func() []byte {
		var b bytes.Buffer
		b.WriteString("Bibnr,Tittel,2025-01")
		for range 1_000_000 {
			b.WriteString(",x")
		}
		b.WriteString("\n2030100,T,1\n")
		return b.Bytes()
	}
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		wantErr  string
		wantRows []upRow
		reject   string // a substring of one reject's reason
	}{
		{"a million columns", million(), Limits{}, "columns", nil, ""},
		{"a count of a billion", []byte("Bibnr,Tittel,2025-01,2025-02\n2030100,T,1000000000,2\n"), Limits{},
			"", []upRow{{"T", 1e9}, {"T", 2}}, ""},
		// A mapped file's row is rejected whole, named by file, row and column.
		{"a count of 10^18", []byte("Bibnr,Tittel,2025-01\n2030100,T,1000000000000000000\n"), Limits{},
			"", nil, "implausibly large"},
		{"a count past int64", []byte("Bibnr,Tittel,2025-01,2025-02\n2030100,T,99999999999999999999,2\n"), Limits{},
			"", nil, "implausibly large"},
		{"a count of 1e18 in exponent form", []byte("Bibnr,Tittel,2025-01,2025-02\n2030100,T,1e18,2\n"), Limits{},
			"", nil, "not a number"},
		// A file that is not UTF-8 is read as Latin-1 (Windows-1252), what
		// Norwegian spreadsheets export: valid text, the letters kept.
		{"invalid UTF-8 in a title", []byte("Bibnr,Tittel,2025-01\n2030100,Avis \xff\xfe n\xe6r,3\n"), Limits{},
			"", []upRow{{"Avis ÿþ nær", 3}}, ""},
		{"a cell of 2 MiB", []byte("Bibnr,Tittel,2025-01\n2030100," + strings.Repeat("t", 2<<20) + ",3\n"), Limits{},
			"longer than", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, rows, err := readMapped(t, m, tt.data, tt.lim)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64*uint64(len(tt.data))+(64<<20) {
				t.Errorf("allocated %d MiB for a %d-byte file", alloc>>20, len(tt.data))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one saying %q", err, tt.wantErr)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if !utf8.ValidString(r.title) {
					t.Errorf("title %q is not valid UTF-8", r.title)
				}
			}
			if tt.reject != "" && !strings.Contains(fmt.Sprint(res.Rejected), tt.reject) {
				t.Errorf("rejects %v; want one saying %q", res.Rejected, tt.reject)
			}
			if fmt.Sprint(rows) != fmt.Sprint(tt.wantRows) {
				t.Errorf("rows %v; want %v", rows, tt.wantRows)
			}
			t.Logf("rows %v, rejects %v", rows, res.Rejected)
		})
	}
}

// xlsxBomb is a small workbook whose one sheet inflates to inflated
// bytes. With lie, the zip's header claims the sheet is 1 KiB.
func xlsxBomb(t *testing.T, inflated int, lie bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	}
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	var sheet bytes.Buffer
	fw, _ := flate.NewWriter(&sheet, flate.BestCompression)
	io.WriteString(fw, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	row := `<row r="1"><c r="A1"><v>1</v></c></row>`
	for n := 0; n < inflated; n += len(row) {
		io.WriteString(fw, row)
	}
	io.WriteString(fw, `</sheetData></worksheet>`)
	fw.Close()
	size := uint64(inflated)
	if lie {
		size = 1024
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: uint64(sheet.Len()), UncompressedSize64: size, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sheet.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileXLSXBombUpload: a zip bomb is refused by the unzip limits
// (16× the file limit in all, 4× per sheet), and a zip whose header lies
// about the size is refused when the inflated bytes pass the claim.
func TestHostileXLSXBombUpload(t *testing.T) {
	m, err := ParseMapping(strings.NewReader(strings.Replace(hostileMapping, "format: csv", "format: xlsx", 1)), "hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		lie  bool
	}{{"honest header", false}, {"lying header", true}} {
		t.Run(tt.name, func(t *testing.T) {
			data := xlsxBomb(t, 64<<20, tt.lie)
			lim := Limits{MaxFileBytes: 1 << 20} // unzip limit 16 MiB
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, rows, err := readMapped(t, m, data, lim)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("a %d-byte workbook inflating to 64 MiB read without error (%d rows)", len(data), len(rows))
			}
			t.Logf("%d bytes: %v; allocated %d MiB", len(data), err, (after.TotalAlloc-before.TotalAlloc)>>20)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("allocated %d MiB refusing it", alloc>>20)
			}
		})
	}
}

// endlessGet is a store whose inbox holds one file of n bytes that is
// generated as it is read, never held.
// endlessGet serves a huge inbox file. The first Get (the one read to judge
// the file) counts into read; later ones (the move) into copied. A Put under
// rejected/ is counted, not kept.
type endlessGet struct {
	*store.Memory
	n      int64
	read   int64
	gets   int
	copied int64
	moved  int64
}

func (e *endlessGet) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.Contains(key, "/rejected/") && !strings.HasSuffix(key, ReasonSuffix) {
		n, err := io.Copy(io.Discard, r)
		e.moved = n
		return err
	}
	return e.Memory.Put(ctx, key, r)
}

func (e *endlessGet) List(ctx context.Context, prefix string) ([]string, error) {
	return []string{"inbox/hostile/huge.csv"}, nil
}

func (e *endlessGet) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key != "inbox/hostile/huge.csv" {
		return e.Memory.Get(ctx, key)
	}
	e.gets++
	if e.gets > 1 {
		return io.NopCloser(&countingFill{left: e.n, read: &e.copied}), nil
	}
	return io.NopCloser(&countingFill{left: e.n, read: &e.read}), nil
}

type countingFill struct {
	left int64
	read *int64
}

func (c *countingFill) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), c.left))
	for i := range p[:n] {
		p[i] = 'x' // one line: no newline ever
	}
	c.left -= int64(n)
	*c.read += int64(n)
	return n, nil
}

// TestHostileInboxTwoGBLine: a 2 GB one-line file in the inbox is
// rejected after reading just past the file limit.
func TestHostileInboxTwoGBLine(t *testing.T) {
	st := &endlessGet{Memory: store.NewMemory(), n: 2 << 30}
	in := &Ingester{Store: st, Mappings: map[string]*Mapping{"hostile": hostile(t)}, By: "test",
		Limits: Limits{MaxFileBytes: 8 << 20}}
	res, err := ProcessInbox(context.Background(), st, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome == nil || res[0].Outcome.Status != StatusRejected || !strings.Contains(res[0].Outcome.Reason, "larger than") {
		t.Fatalf("results %+v; want the file rejected as too large", res)
	}
	if st.read > 8<<20+1<<16 {
		t.Errorf("read %d bytes of a 2 GB file; want about the 8 MiB limit", st.read)
	}
	if st.moved != st.n {
		t.Errorf("rejected/ received %d bytes of the %d-byte file: the vendor's file must move whole", st.moved, st.n)
	}
	t.Logf("rejected after %d bytes: %s", st.read, res[0].Outcome.Reason)
}
