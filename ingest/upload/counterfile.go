package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// readCounter reads f as a COUNTER report into units. isCounter says the
// file is COUNTER, so no mapping is tried; reason is why it is rejected,
// or, when it is not COUNTER, what the reader said of it.
func (in *Ingester) readCounter(ctx context.Context, f File, fileKey string, lim Limits, units *unitSet, out *Outcome) (reason string, isCounter bool) {
	base := path.Base(f.Name)
	opts := counter.Options{Name: base, SourceKey: fileKey, MaxBytes: lim.MaxFileBytes, AcceptPartial: in.AcceptPartial}
	doc, err := counter.Read(ctx, bytes.NewReader(f.Data), opts, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		return units.addRecord(rec)
	})
	var cell *counter.CellError
	switch {
	case errors.As(err, &cell):
		return fmt.Sprintf("%v; fix the file, or load the rest with --accept-partial", cell), true
	case errors.Is(err, counter.ErrOverflow):
		return err.Error(), true
	case err != nil:
		return err.Error(), false
	case doc.Kind == counter.KindExceptions:
		return "an exception-only COUNTER response, not a report (" + exceptionList(doc.Exceptions) + "): no usage to load, and no statement of zero", true
	case doc.Kind != counter.KindReport:
		return fmt.Sprintf("a COUNTER %s, not a report", doc.Kind), true
	}
	out.Kind, out.Release, out.Report = "counter", doc.Release, strings.ToLower(doc.ReportID)
	out.Warnings = append(out.Warnings, doc.Warnings...)
	if in.AcceptPartial {
		out.skipped = doc.Skipped
	}
	lib := f.Library
	if named := isilOf(doc.Header.InstitutionID); named != "" {
		if lib != "" && lib != named {
			return fmt.Sprintf("the report is for library %s, --library says %s", named, lib), true
		}
		lib = named
	}
	if lib == "" {
		return "the report names no ISIL institution id: give the library (--library)", true
	}
	if err := bibstat.CheckSegment(out.Report); err != nil {
		return fmt.Sprintf("report id %q cannot name a unit", doc.ReportID), true
	}
	if why := noUsage(doc); why != "" {
		return why, true
	}
	// A month the report positively says had no usage is a zero unit: it
	// must supersede an earlier upload of that month too.
	for _, mon := range zeroMonths(doc) {
		if _, err := units.get(unitID{month: mon}); err != nil {
			return err.Error(), true
		}
	}
	units.setCounter(out.Report, lib)
	out.Totals = units.totals
	out.Rows = units.rows
	return "", true
}

// noUsage says why a report with no usage rows is not the vendor's "no
// usage", or "" when it has rows or is Empty without an exception that
// says otherwise.
func noUsage(doc *counter.Document) string {
	if doc.Rows > 0 {
		return ""
	}
	if excs := blocking(doc.Exceptions); len(excs) > 0 {
		return "no usage rows, and the report's exceptions say why (" + exceptionList(excs) + "): not taken for zero"
	}
	switch {
	case doc.Skipped > 0:
		why := fmt.Sprintf("no usage loaded: all %d values were set aside", doc.Skipped)
		if len(doc.Warnings) > 0 {
			why += " (" + doc.Warnings[0] + ")"
		}
		return why
	case !doc.Empty:
		return "no usage rows, and not a well-formed empty report (a complete header covering its period and an empty Report_Items, or no data rows): not taken for zero"
	}
	return ""
}

// zeroMonths are the months of the report's period that it positively
// says had no usage: all of them when it is Empty; when it has rows, the
// months without any, but only if the report is complete: its header
// states the period, it set no value aside, and no exception (3031 not
// ready, 3040 partial, …) makes a missing month anything but zero. A file
// that is not complete says nothing of the months it does not show.
func zeroMonths(doc *counter.Document) []bibstat.Month {
	h := doc.Header
	if h.Begin.IsZero() || h.End.IsZero() || h.End.Before(h.Begin) {
		return nil
	}
	if len(blocking(doc.Exceptions)) > 0 || doc.Skipped > 0 || (doc.Rows == 0 && !doc.Empty) {
		return nil
	}
	ms := bibstat.MonthsBetween(h.Begin, h.End)
	if len(ms) > 1200 {
		return nil
	}
	return ms
}

// blocking are the exceptions that make a report say less than all its
// period's usage: every code from 1000 on but 3030, which says there is none.
func blocking(excs []counter.Exception) []counter.Exception {
	var out []counter.Exception
	for _, e := range excs {
		if e.Code >= 1000 && e.Code != 3030 {
			out = append(out, e)
		}
	}
	return out
}

func exceptionList(excs []counter.Exception) string {
	parts := make([]string, 0, len(excs))
	for _, e := range excs {
		parts = append(parts, e.Error())
	}
	if len(parts) == 0 {
		return "no exception"
	}
	return strings.Join(parts, "; ")
}
