package schemas

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// BenchmarkBatcherAdd adds rows shaped like a title report's: a title's
// text fields set once, then one Add for each of its twelve months, most
// of the 35 text fields empty.
func BenchmarkBatcherAdd(b *testing.B) {
	var months [12]time.Time
	for m := range months {
		months[m] = time.Date(2024, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC)
	}
	titles := make([]Row, 64)
	for i := range titles {
		titles[i] = Row{Release: "5.1", ReportID: "TR", InstitutionName: "Bench Library", InstitutionID: "ISIL:NO-0000000",
			Title: fmt.Sprintf("Journal of Synthetic Studies %d", i), Publisher: fmt.Sprintf("Publisher %d", i), PublisherID: "ISNI:0000000000000042",
			Platform: "Platform 3", DOI: fmt.Sprintf("10.9999/jss.%d", i), ProprietaryID: "P1:J42", PrintISSN: "0042-0000",
			URI: "https://example.org/j/42", DataType: "Journal", AccessType: "Controlled", AccessMethod: "Regular",
			MetricType: "Total_Item_Requests", YOP: 2020, HasYOP: true}
	}
	bt := NewBatcher(nil, 2*122_880, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	defer bt.Release()
	var r Row
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%12 == 0 {
			r = titles[(i/12)%len(titles)]
		}
		r.Month, r.Count = months[i%12], int64(1+i%97)
		if err := bt.Add(&r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
