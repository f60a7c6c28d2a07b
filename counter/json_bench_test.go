package counter

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/schemas"
)

// syntheticPR is an R5.1 PR for one month as the national shape's SUSHI
// servers send it: one item, its searches apart, metrics rows in all.
func syntheticPR(metrics int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Report_Header":{"Report_Name":"Platform Report","Report_ID":"PR","Release":"5.1",` +
		`"Institution_Name":"Drammen bibliotek","Institution_ID":{"ISIL":["NO-2030100"],"Proprietary":["plattform03:c2030100"]},` +
		`"Report_Filters":{"Begin_Date":"2025-03-01","End_Date":"2025-03-31"},"Created":"2025-04-03T00:00:00Z",` +
		`"Created_By":"BibStat SUSHI simulator"},"Report_Items":[{"Platform":"plattform03","Attribute_Performance":[` +
		`{"Data_Type":"Platform","Performance":{"Searches_Platform":{"2025-03":41}}},{"Data_Type":"Book","Performance":{`)
	names := []string{"Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations", "Unique_Item_Requests", "Unique_Title_Investigations", "Unique_Title_Requests"}
	for i := range metrics - 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"2025-03":%d}`, names[i%len(names)], 10+i)
	}
	b.WriteString("}}]}]}\n")
	return b.Bytes()
}

// syntheticTRJSON is an R5.1 TR of items titles, twelve months each, two
// metrics, with the identifiers and attributes a vendor's TR carries.
func syntheticTRJSON(items int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Report_Header":{"Report_Name":"Title Report","Report_ID":"TR","Release":"5.1",` +
		`"Institution_Name":"Drammen bibliotek","Institution_ID":{"ISIL":["NO-2030100"]},` +
		`"Report_Filters":{"Begin_Date":"2024-01-01","End_Date":"2024-12-31"},"Created":"2025-01-03T00:00:00Z",` +
		`"Created_By":"Vendor \"X\" \u00e6\u00f8\u00e5"},"Report_Items":[`)
	for i := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Title":"Journal of Things %d, \u00c5rbok","Item_ID":{"DOI":"10.9999/j.%d","Print_ISSN":"1234-%04d"},`+
			`"Platform":"Plattform","Publisher":"Publisher %d","Publisher_ID":{"ISNI":["0000 0000 %04d"]},"Attribute_Performance":[`+
			`{"Data_Type":"Journal","YOP":"%d","Access_Type":"Controlled","Access_Method":"Regular","Performance":{`, i, i, i%10000, i%50, i%10000, 2000+i%25)
		for k, metric := range []string{"Total_Item_Requests", "Unique_Item_Requests"} {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s":{`, metric)
			for m := 1; m <= 12; m++ {
				if m > 1 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"2024-%02d":%d`, m, (i+m)%40+1)
			}
			b.WriteByte('}')
		}
		b.WriteString("}}]}")
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// benchmarkReadJSON reads data the old way (encoding/json's Decoder, a
// batch per document) and the new (byte tokens; then also the rows into
// one Batcher of the caller's, Options.Rows), side by side.
func benchmarkReadJSON(b *testing.B, data []byte) {
	bt := schemas.NewBatcher(nil, 4096, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	defer bt.Release()
	for _, way := range []struct {
		name string
		opts Options
	}{{"decoder", Options{streamJSON: true}}, {"bytes", Options{}}, {"bytes+rows", Options{Rows: bt.Add}}} {
		b.Run(way.name, func(b *testing.B) {
			opts := way.opts
			opts.MaxLineBytes = len(data) + 1
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				doc, err := Read(context.Background(), bytes.NewReader(data), opts, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
				if err != nil || doc.Rows == 0 {
					b.Fatal(doc, err)
				}
			}
		})
	}
}

// BenchmarkReadJSONSmall is a national unit: a five-row PR, read as the
// warehouse load reads it (MaxLineBytes its size, as transform's sized).
func BenchmarkReadJSONSmall(b *testing.B) { benchmarkReadJSON(b, syntheticPR(5)) }

// BenchmarkReadJSONLarge is a vendor's TR of 2,000 titles (48,000 rows).
// (-benchtime 20x or so: a read is a quarter of a second.)
func BenchmarkReadJSONLarge(b *testing.B) { benchmarkReadJSON(b, syntheticTRJSON(2000)) }
