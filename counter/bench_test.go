package counter

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// syntheticTSV is an R5.1 TR with rows data rows of 12 months.
func syntheticTSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("Report_Name\tTitle Report\nReport_ID\tTR\nRelease\t5.1\nReporting_Period\tBegin_Date=2024-01-01; End_Date=2024-12-31\n\n")
	b.WriteString("Title\tPublisher\tPlatform\tDOI\tPrint_ISSN\tData_Type\tYOP\tAccess_Type\tAccess_Method\tMetric_Type\tReporting_Period_Total")
	for m := 1; m <= 12; m++ {
		fmt.Fprintf(&b, "\t2024-%02d", m)
	}
	b.WriteByte('\n')
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "Journal %d\tPublisher %d\tPlatform\t10.9999/j.%d\t1234-%04d\tJournal\t2020\tControlled\tRegular\tTotal_Item_Requests\t78", i/4, i%50, i/4, i%10000)
		for m := 1; m <= 12; m++ {
			fmt.Fprintf(&b, "\t%d", m)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func BenchmarkReadTSV(b *testing.B) {
	data := syntheticTSV(20000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := Read(context.Background(), bytes.NewReader(data), Options{}, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}
