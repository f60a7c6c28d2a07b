package counter

import (
	"context"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
)

// Inspection is what a file holds, as "bibstat inspect" prints it: one
// JSON object per file. The field order is the output's key order, which
// scripts rely on; new fields go at the end.
type Inspection struct {
	File       string                `json:"file"`
	OK         bool                  `json:"ok"`
	Error      string                `json:"error,omitempty"`
	Release    string                `json:"release"`
	ReportID   string                `json:"report_id"`
	Begin      string                `json:"begin"`
	End        string                `json:"end"`
	Months     []string              `json:"months"`
	Totals     map[string]int64      `json:"totals"`
	Exceptions []InspectionException `json:"exceptions"`
	Warnings   []string              `json:"warnings"`
	Empty      bool                  `json:"empty"`   // the vendor's positive "no usage" (Document.Empty)
	Skipped    int64                 `json:"skipped"` // values read but not loaded (Document.Skipped)
}

// InspectionException is one exception of an inspected file.
type InspectionException struct {
	Code     int    `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Inspect reads the file name as COUNTER and says what it holds. A file
// that cannot be read is an Inspection with OK false and the Error, and
// whatever was read before it.
func Inspect(ctx context.Context, name string) Inspection {
	res := Inspection{File: name, Months: []string{}, Totals: map[string]int64{},
		Exceptions: []InspectionException{}, Warnings: []string{}}
	f, err := os.Open(name)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer f.Close()
	doc, err := Read(ctx, f, Options{Name: name},
		func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	if doc != nil {
		res.describe(doc)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.OK = true
	return res
}

func (res *Inspection) describe(doc *Document) {
	res.Release, res.ReportID = doc.Release, doc.ReportID
	if doc.Kind == KindReport {
		res.Begin, res.End = period(doc)
	} else {
		res.ReportID = ""
	}
	for _, m := range doc.Months() {
		res.Months = append(res.Months, m.String())
	}
	for k, v := range doc.Totals {
		res.Totals[k] = v
	}
	for _, x := range doc.Exceptions {
		res.Exceptions = append(res.Exceptions, InspectionException{Code: x.Code, Severity: x.Severity, Message: x.Message})
	}
	res.Warnings = append(res.Warnings, doc.Warnings...)
	res.Empty, res.Skipped = doc.Empty, doc.Skipped
}

// period is the report's months as its header states them, else as its
// columns head them, else as its data dates them; "" when none says.
func period(doc *Document) (begin, end string) {
	b, e := doc.Header.Begin, doc.Header.End
	if b.IsZero() || e.IsZero() {
		b, e = doc.FirstColumn, doc.LastColumn
	}
	if months := doc.Months(); (b.IsZero() || e.IsZero()) && len(months) > 0 {
		b, e = months[0], months[len(months)-1]
	}
	if b.IsZero() {
		return "", ""
	}
	return b.String(), e.String()
}
