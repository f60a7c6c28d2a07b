package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// TestPropertyClassifyZeroOnlyIfTheVendorSaysSo: for every fixture, and
// each cut short or with its Report_Items or dates broken, a response is
// zero only if it reads as Empty or carries 3030, and loadable with usage
// (ok, partial) only if it has rows.
func TestPropertyClassifyZeroOnlyIfTheVendorSaysSo(t *testing.T) {
	ctx := context.Background()
	var files []string
	for _, dir := range []string{"../testdata/counter", "../testdata/vendor-files", "../testdata/upload"} {
		names, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, names...)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		bodies := map[string][]byte{"as is": data}
		for _, cut := range []int{1, 3, 5, 7} {
			bodies["cut at "+string(rune('0'+cut))+"/8"] = data[:len(data)*cut/8]
		}
		bodies["items null"] = bytes.ReplaceAll(data, []byte(`"Report_Items":[`), []byte(`"Report_Items":null,"x":[`))
		bodies["items an object"] = bytes.ReplaceAll(data, []byte(`"Report_Items":[`), []byte(`"Report_Items":{"x":[`))
		bodies["next year"] = []byte(strings.NewReplacer("-01\"", "-13\"", "2025-", "2026-", "2024-", "2025-").Replace(string(data)))
		for name, body := range bodies {
			doc, rerr := counter.Read(ctx, bytes.NewReader(body), counter.Options{}, nil)
			j := jobFor(doc)
			o := classify(ctx, j, "raw/key", &sushi.Response{Status: 200, ContentType: "application/json", Body: body})
			switch o.state {
			case bibstat.StateZero:
				if rerr != nil || !(doc.Empty || hasCode(doc.Exceptions, 3030)) {
					t.Errorf("%s %s: zero (%s), but the vendor did not say so (read: %v)", filepath.Base(file), name, o.err, rerr)
				}
			case bibstat.StateOK, bibstat.StatePartial:
				if rerr != nil || doc.Rows == 0 {
					t.Errorf("%s %s: %s without rows (read: %v)", filepath.Base(file), name, o.state, rerr)
				}
			}
		}
	}
}

// jobFor is a job the document answers: its report and first month, no
// release or customer to check.
func jobFor(doc *counter.Document) Job {
	u := bibstat.Unit{Platform: "p", Credential: "c", Report: "pr", Month: jan}
	if doc == nil {
		return Job{Unit: u}
	}
	if doc.ReportID != "" {
		u.Report = bibstat.ReportID(strings.ToLower(doc.ReportID))
	}
	switch {
	case !doc.Header.Begin.IsZero():
		u.Month = doc.Header.Begin
	case !doc.FirstColumn.IsZero():
		u.Month = doc.FirstColumn
	}
	return Job{Unit: u}
}
