package counter

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat/schemas"
)

// genReader streams head, then n bytes of fill (cycled), then tail, without
// ever holding more than one Read's worth: a hostile input of any size.
type genReader struct {
	head, fill, tail []byte
	n                int64 // fill bytes left
	read             int64 // bytes handed out
	pos              int
}

func (g *genReader) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) {
		switch {
		case len(g.head) > 0:
			c := copy(p[k:], g.head)
			g.head = g.head[c:]
			k += c
		case g.n > 0:
			c := min(int64(len(p)-k), g.n)
			for i := int64(0); i < c; i++ {
				p[k] = g.fill[g.pos]
				g.pos = (g.pos + 1) % len(g.fill)
				k++
			}
			g.n -= c
		case len(g.tail) > 0:
			c := copy(p[k:], g.tail)
			g.tail = g.tail[c:]
			k += c
		default:
			g.read += int64(k)
			if k == 0 {
				return 0, io.EOF
			}
			return k, nil
		}
	}
	g.read += int64(k)
	return k, nil
}

const trHeader = "Report_Name\tTitle Report\nReport_ID\tTR\nRelease\t5.1\nInstitution_Name\tHostile Library\n" +
	"Institution_ID\tISIL:NO-2030100\nMetric_Types\tTotal_Item_Requests\nReport_Filters\t\nReport_Attributes\t\nExceptions\t\n" +
	"Reporting_Period\tBegin_Date=2025-01-01; End_Date=2025-02-28\nCreated\t2025-03-05T00:00:00Z\nCreated_By\thostile\nRegistry_Record\t\n\n" +
	"Title\tPublisher\tPublisher_ID\tPlatform\tDOI\tProprietary_ID\tISBN\tPrint_ISSN\tOnline_ISSN\tURI\tData_Type\tYOP\tAccess_Type\tAccess_Method\tMetric_Type\tReporting_Period_Total\tJan-2025\tFeb-2025\n"

func trLine(title, total, jan, feb string) string {
	return title + "\tPub\t\tPlat\t\t\t\t\t\t\tJournal\t2020\tControlled\tRegular\tTotal_Item_Requests\t" + total + "\t" + jan + "\t" + feb + "\n"
}

// collect reads r and returns the document, the rows as schemas.Rows' text
// (title, count) and the error.
type gotRow struct {
	title string
	count int64
}

func readHostile(t *testing.T, r io.Reader, opts Options) (*Document, []gotRow, error) {
	t.Helper()
	var rows []gotRow
	doc, err := Read(context.Background(), r, opts, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		ti := rec.Schema().FieldIndices(schemas.ColTitle)[0]
		ci := rec.Schema().FieldIndices("count")[0]
		titles := rec.Column(ti).(*array.String)
		counts := rec.Column(ci).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, gotRow{titles.Value(i), counts.Value(i)})
		}
		return nil
	})
	return doc, rows, err
}

// TestHostileStreams: inputs far too large to hold are refused after
// reading a bounded prefix, in bounded memory.
func TestHostileStreams(t *testing.T) {
	const gb2 = 2 << 30
	deep := 100_000
	tests := []struct {
		name     string
		r        func() *genReader
		opts     Options
		wantErr  string
		maxRead  int64 // the reader must give up before this many bytes
		maxAlloc uint64
	}{
		{"2 GB line in a TSV", func() *genReader {
			return &genReader{head: []byte(trHeader + "Title "), fill: []byte("abcdefgh"), n: gb2, tail: []byte("\n")}
		}, Options{}, "longer than", 8 << 20, 64 << 20},
		{"2 GB header line", func() *genReader {
			return &genReader{fill: []byte("Report_Name "), n: gb2}
		}, Options{}, "longer than", 8 << 20, 64 << 20},
		{"2 GB JSON string", func() *genReader {
			return &genReader{head: []byte(`{"Report_Header":{"Report_Name":"`), fill: []byte("x"), n: gb2, tail: []byte(`"}}`)}
		}, Options{MaxBytes: 64 << 20}, "", 80 << 20, 512 << 20},
		{"JSON nested 100,000 deep (arrays)", func() *genReader {
			return &genReader{head: []byte(`{"Report_Header":{"Report_Name":"PR","x":`), fill: []byte("["), n: int64(deep), tail: []byte(strings.Repeat("]", deep) + "}}")}
		}, Options{}, "nesting deeper than", 1 << 20, 64 << 20},
		{"JSON nested 100,000 deep (objects)", func() *genReader {
			return &genReader{head: []byte(`{"Report_Items":[`), fill: []byte(`{"a":`), n: int64(5 * deep), tail: []byte(strings.Repeat("}", deep) + "]}")}
		}, Options{}, "nesting deeper than", 1 << 20, 64 << 20},
		{"JSON nested 100,000 deep at the root", func() *genReader {
			return &genReader{fill: []byte("["), n: int64(deep), tail: []byte(strings.Repeat("]", deep))}
		}, Options{}, "", 1 << 20, 64 << 20},
		{"a million columns, default line limit", func() *genReader {
			return &genReader{head: []byte(trHeader[:strings.Index(trHeader, "Title\t")] + "Title"), fill: []byte("\tX"), n: 2_000_000, tail: []byte("\n")}
		}, Options{}, "", 4 << 20, 64 << 20},
		{"a million columns under a 4 MiB line limit", func() *genReader {
			return &genReader{head: []byte(trHeader[:strings.Index(trHeader, "Title\t")] + "Title"), fill: []byte("\tX"), n: 2_000_000, tail: []byte("\n")}
		}, Options{MaxLineBytes: 4 << 20}, "columns", 8 << 20, 256 << 20},
		{"a million cells in a data row", func() *genReader {
			return &genReader{head: []byte(trHeader + "T"), fill: []byte("\t1"), n: 2_000_000, tail: []byte("\n")}
		}, Options{MaxLineBytes: 4 << 20}, "columns", 8 << 20, 256 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.r()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, _, err := readHostile(t, g, tt.opts)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("read %d bytes and succeeded; want an error", g.read)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q; want it to say %q", err, tt.wantErr)
			}
			if g.read > tt.maxRead {
				t.Errorf("read %d bytes before giving up; want at most %d", g.read, tt.maxRead)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tt.maxAlloc {
				t.Errorf("allocated %d MiB; want at most %d MiB", alloc>>20, tt.maxAlloc>>20)
			}
			t.Logf("%v after %d bytes in %v", err, g.read, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestHostileXLSXBomb: a small zip whose sheet inflates past MaxXLSXBytes
// is refused, without inflating it.
func TestHostileXLSXBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	}
	for name, body := range files {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, body)
	}
	f, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	const inflated = 64 << 20
	io.WriteString(f, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>`)
	pad := bytes.Repeat([]byte("A"), 1<<20)
	for range inflated >> 20 {
		f.Write(pad)
	}
	io.WriteString(f, `</t></is></c></row></sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes; want a small file", buf.Len())
	}
	for _, tt := range []struct {
		name string
		max  int64
	}{{"MaxXLSXBytes 8 MiB", 8 << 20}, {"default limits", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, rows, err := readHostile(t, bytes.NewReader(buf.Bytes()), Options{MaxXLSXBytes: tt.max})
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("a %d-byte zip inflating to %d MiB read without error (%d rows)", buf.Len(), inflated>>20, len(rows))
			}
			t.Logf("%d-byte zip: %v; allocated %d MiB", buf.Len(), err, (after.TotalAlloc-before.TotalAlloc)>>20)
			if tt.max > 0 && after.TotalAlloc-before.TotalAlloc > 4*uint64(tt.max)+(32<<20) {
				t.Errorf("allocated %d MiB under a %d MiB limit", (after.TotalAlloc-before.TotalAlloc)>>20, tt.max>>20)
			}
		})
	}
}

// TestHostileCounts: counts claiming a billion or 10^18 are kept exactly
// when they fit an int64, refused (the file fails with ErrOverflow) when they do
// not, and never allocate by the claim; totals never wrap silently.
func TestHostileCounts(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantRows  []gotRow
		wantTotal int64  // Totals["Total_Item_Requests"]; -1: do not check
		warning   string // a substring of one warning
		wantErr   string
	}{
		{"a billion in a cell", trHeader + trLine("T", "1000000000", "1000000000", "0"),
			[]gotRow{{"T", 1e9}}, 1e9, "", ""},
		{"Reporting_Period_Total claims a billion", trHeader + trLine("T", "1000000000", "3", "4"),
			[]gotRow{{"T", 3}, {"T", 4}}, 7, "Reporting_Period_Total is 1000000000", ""},
		{"Reporting_Period_Total claims 10^30", trHeader + trLine("T", "1000000000000000000000000000000", "3", "4"),
			[]gotRow{{"T", 3}, {"T", 4}}, 7, "", ""},
		{"10^18 in a cell", trHeader + trLine("T", "1000000000000000000", "1000000000000000000", "0"),
			[]gotRow{{"T", 1e18}}, 1e18, "", ""},
		{"two 9×10^18 cells overflow the total", trHeader + trLine("T", "", "9000000000000000000", "9000000000000000000"),
			nil, -1, "", "overflow"},
		{"10^19 in a cell", trHeader + trLine("T", "", "10000000000000000000", "1"),
			nil, -1, "", "overflow"},
		{"1e18 as a float", trHeader + trLine("T", "", "1e18", "1"),
			nil, -1, "", "overflow"},
		{"JSON count of 10^18", jsonPR(`1000000000000000000`), []gotRow{{"", 1e18}}, 1e18, "", ""},
		{"JSON count of 1e18", jsonPR(`1e18`), nil, -1, "", "overflow"},
		{"JSON count of 10^30", jsonPR(`1000000000000000000000000000000`), nil, 0, "", "overflow"},
		{"JSON counts overflowing the total", jsonPR2(`9000000000000000000`, `9000000000000000000`), nil, -1, "", "overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			doc, rows, err := readHostile(t, strings.NewReader(tt.in), Options{Name: "hostile"})
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d MiB for a %d-byte file", alloc>>20, len(tt.in))
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
				if r.count < 0 {
					t.Errorf("negative count %d: an overflow", r.count)
				}
			}
			if tt.wantRows != nil && fmt.Sprint(rows) != fmt.Sprint(tt.wantRows) {
				t.Errorf("rows %v; want %v", rows, tt.wantRows)
			}
			if tt.wantTotal >= 0 && doc.Totals["Total_Item_Requests"] != tt.wantTotal {
				t.Errorf("total %d; want %d", doc.Totals["Total_Item_Requests"], tt.wantTotal)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(doc.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q; want one saying %q", doc.Warnings, tt.warning)
			}
			t.Logf("rows %v, totals %v, warnings %q", rows, doc.Totals, doc.Warnings)
		})
	}
}

func jsonPR(count string) string { return jsonPR2(count, "") }

// jsonPR2 is an R5.1 PR with one or two months of Total_Item_Requests.
func jsonPR2(jan, feb string) string {
	perf := `"2025-01":` + jan
	if feb != "" {
		perf += `,"2025-02":` + feb
	}
	return `{"Report_Header":{"Report_Name":"Platform Report","Report_ID":"PR","Release":"5.1","Institution_Name":"X",` +
		`"Created":"2025-03-01T00:00:00Z","Created_By":"hostile","Report_Filters":{"Begin_Date":"2025-01-01","End_Date":"2025-02-28"}},` +
		`"Report_Items":[{"Platform":"Plat","Attribute_Performance":[{"Data_Type":"Database_Full","Access_Method":"Regular",` +
		`"Performance":{"Total_Item_Requests":{` + perf + `}}}]}]}`
}

// TestHostileUTF8: invalid UTF-8 in titles is replaced (U+FFFD), so that
// what reaches Arrow, Parquet and DuckDB is always valid text; the raw
// object keeps the vendor's bytes.
func TestHostileUTF8(t *testing.T) {
	bad := "Tidsskrift \xff\xfe for \xc3 n\xe6ring"          // Latin-1 æ, a cut sequence, bytes never valid
	want := "Tidsskrift \uFFFD\uFFFD for \uFFFD n\uFFFDring" // each invalid byte, as encoding/json does
	tests := []struct{ name, in string }{
		{"TSV", trHeader + trLine(bad, "5", "2", "3")},
		{"CSV", strings.ReplaceAll(trHeader+trLine(bad, "5", "2", "3"), "\t", ",")},
		{"JSON", `{"Report_Header":{"Report_Name":"Title Report","Report_ID":"TR","Release":"5.1","Institution_Name":"X",` +
			`"Created":"2025-03-01T00:00:00Z","Created_By":"hostile","Report_Filters":{"Begin_Date":"2025-01-01","End_Date":"2025-02-28"}},` +
			`"Report_Items":[{"Title":"` + bad + `","Platform":"Plat","Item_ID":{"Proprietary":"P:1"},"Attribute_Performance":[{"Data_Type":"Journal","YOP":"2020","Access_Type":"Controlled","Access_Method":"Regular",` +
			`"Performance":{"Total_Item_Requests":{"2025-01":2,"2025-02":3}}}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pq := filepath.Join(dir, "u.parquet")
			f, err := os.Create(pq)
			if err != nil {
				t.Fatal(err)
			}
			pw, err := schemas.NewParquetWriter(f)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			_, err = Read(context.Background(), strings.NewReader(tt.in), Options{Name: "utf8"}, func(rec arrow.RecordBatch) error {
				col := rec.Column(rec.Schema().FieldIndices(schemas.ColTitle)[0]).(*array.String)
				for i := 0; i < col.Len(); i++ {
					titles = append(titles, col.Value(i))
				}
				return pw.Write(rec)
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if len(titles) != 2 {
				t.Fatalf("%d rows; want 2", len(titles))
			}
			for _, ti := range titles {
				if ti != want {
					t.Errorf("title %q; want %q (invalid bytes replaced)", ti, want)
				}
			}
			db, err := sql.Open("duckdb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got string
			var n int64
			if err := db.QueryRow(fmt.Sprintf(`SELECT any_value(title), sum(count) FROM read_parquet('%s')`, pq)).Scan(&got, &n); err != nil {
				t.Fatalf("DuckDB reading the Parquet: %v", err)
			}
			if got != want || n != 5 {
				t.Errorf("DuckDB read %q, %d; want %q, 5", got, n, want)
			}
		})
	}
}
