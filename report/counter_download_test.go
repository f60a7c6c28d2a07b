package report

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/counter"
)

// TestCOUNTERDownloadReadsBack reads our own COUNTER TSV with our COUNTER
// reader: a library's ERM must be able to, and the totals must survive.
func TestCOUNTERDownloadReadsBack(t *testing.T) {
	b, err := usageCOUNTER(Scope{Kind: "library", ID: "2030100", Name: "Oslo demobibliotek", ISIL: "NO-2030100"}, sampleUsage, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := counter.Read(context.Background(), bytes.NewReader(b), counter.Options{Name: "download.tsv"},
		func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	if err != nil {
		t.Fatalf("our reader rejects our own COUNTER file: %v\n%s", err, b)
	}
	if doc.Release != "5.1" || doc.ReportID != "PR" {
		t.Errorf("release %q report %q", doc.Release, doc.ReportID)
	}
	// R4 usage stays out; R5.1 usage is all there.
	if got := doc.Totals["Total_Item_Requests"]; got != 1234 {
		t.Errorf("Total_Item_Requests = %d, want 1234 (R4's 99 left out)", got)
	}
	if got := doc.Totals["Unique_Item_Requests"]; got != 7 {
		t.Errorf("Unique_Item_Requests = %d, want 7", got)
	}
	if len(doc.Warnings) != 0 {
		t.Errorf("warnings reading our own file: %v", doc.Warnings)
	}
}
