package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// outcome is what a response turned out to be.
type outcome struct {
	state      bibstat.State
	err        string // why, for every state but ok and zero
	code       int    // the COUNTER exception code that decided, if any
	release    string
	rows       int64
	retryAfter time.Duration // the vendor's Retry-After, for throttled and queued
}

// classify reads a response for job j and decides its state. Only a report
// that is for the unit's report, month, release and customer and parses
// cleanly is loadable: a body that lies (HTML under 200, truncated JSON, an
// empty body, another month or customer) is a failure.
func classify(ctx context.Context, j Job, rawKey string, resp *sushi.Response) outcome {
	o := classifyBody(ctx, j, rawKey, resp)
	o.retryAfter = resp.RetryAfter
	return o
}

func classifyBody(ctx context.Context, j Job, rawKey string, resp *sushi.Response) outcome {
	body := bytes.TrimSpace(resp.Body)
	if len(body) == 0 {
		return byHTTPStatus(resp, "empty body")
	}
	if body[0] == '<' || strings.Contains(strings.ToLower(resp.ContentType), "html") {
		return byHTTPStatus(resp, "an HTML page, not a COUNTER response")
	}
	// The body is read in full to judge it, but its rows are only counted
	// (no emit: not even batched): the warehouse parses raw objects itself,
	// many units to one Parquet file, which costs a fraction of writing a
	// small file per unit here, on the path every request of a politely
	// spaced host waits for.
	// No line can be longer than the body: a small body needs no 1 MiB
	// read buffer (its allocation dominated the per-unit cost).
	lineBytes := min(max(len(resp.Body)+1, 4096), counter.DefaultMaxLineBytes)
	if counter.JSONInLeastBuffer(resp.Body) {
		// Nor a JSON one any: its lines are never read as lines, and the
		// least buffer still shows the format its first byte names.
		lineBytes = counter.MinLineBytes
	}
	doc, err := counter.Read(ctx, bytes.NewReader(resp.Body), counter.Options{Name: rawKey, SourceKey: rawKey,
		MaxLineBytes: lineBytes}, nil)
	if err != nil {
		// A truncated or garbled body: its exceptions, if any could be read,
		// still tell, but none makes it loadable (zero, partial): nothing was read.
		if excs := counter.ParseExceptions(resp.Body); len(excs) > 0 {
			if o, ok := byException(excs, resp.Status); ok && !o.state.Loadable() {
				return o
			}
		}
		return byHTTPStatus(resp, fmt.Sprintf("not a COUNTER response: %v", err))
	}
	o := outcome{release: doc.Release, rows: doc.Rows}
	if eo, ok := byException(doc.Exceptions, resp.Status); ok && (doc.Kind != counter.KindReport || eo.state != bibstat.StatePartial) {
		return byReportException(j, doc, eo)
	}
	if resp.Status != http.StatusOK {
		return byHTTPStatus(resp, "")
	}
	if doc.Kind != counter.KindReport {
		o.state, o.err = bibstat.StateFailed, fmt.Sprintf("expected a report, got %s", doc.Kind)
		return o
	}
	o.state, o.err = judgeReport(j, doc)
	if o.state == bibstat.StateOK && hasCode(doc.Exceptions, 3040) {
		o.state, o.err, o.code = bibstat.StatePartial, "3040 Partial Data Returned", 3040
	}
	return o
}

// byReportException decides a response whose exceptions tell its state.
// Only 3030, the vendor's "no usage for these dates", is zero, and only
// for a report that is the one asked for and has no usage rows: 3030 with
// rows is the rows (judged as any report), and any other "no usage" code
// (3032: no longer available) is no statement that the month was zero.
func byReportException(j Job, doc *counter.Document, eo outcome) outcome {
	eo.release, eo.rows = doc.Release, doc.Rows
	if eo.state == bibstat.StatePartial {
		// 3040 without a report: there is nothing partial to load.
		eo.state = bibstat.StateFailed
		return eo
	}
	if eo.state != bibstat.StateZero {
		return eo
	}
	if eo.code != 3030 {
		eo.state = bibstat.StateFailed
		eo.err += " (not a statement of zero usage; the month is not set to zero)"
		return eo
	}
	if doc.Kind != counter.KindReport {
		return eo // a bare 3030 for the one month asked
	}
	if msg := checkReport(j, doc); msg != "" {
		return outcome{state: bibstat.StateFailed, err: msg, release: doc.Release}
	}
	if doc.Rows == 0 && doc.Skipped == 0 {
		return eo
	}
	st, why := judgeReport(j, doc)
	return outcome{state: st, err: why, release: doc.Release, rows: doc.Rows}
}

// judgeReport decides a report without a deciding exception: ok when it
// is the report asked for with usage dated in the month asked; zero only
// when it is Empty, the vendor's positive "no usage"; failed, with why,
// for anything else, above all a report that yields no rows for another
// reason (no or a broken Report_Items, every value set aside): it must
// never supersede loaded usage with nothing.
func judgeReport(j Job, doc *counter.Document) (bibstat.State, string) {
	u := j.Unit
	if msg := checkReport(j, doc); msg != "" {
		return bibstat.StateFailed, msg
	}
	for _, m := range append(doc.Months(), doc.OutsideMonths()...) {
		if m != u.Month {
			return bibstat.StateFailed, fmt.Sprintf("asked for %s, usage dated %s", u.Month, m)
		}
	}
	switch {
	case doc.Rows > 0:
		return bibstat.StateOK, ""
	case doc.Skipped > 0:
		why := fmt.Sprintf("asked for %s, no usage loaded: all %d values were set aside", u.Month, doc.Skipped)
		if len(doc.Warnings) > 0 {
			why += " (" + doc.Warnings[0] + ")"
		}
		return bibstat.StateFailed, why
	case doc.Empty:
		return bibstat.StateZero, ""
	}
	return bibstat.StateFailed, fmt.Sprintf("asked for %s, the report has no usage rows and is not a well-formed empty report "+
		"(Report_Items an empty list, or a complete header and no rows); not taken for zero", u.Month)
}

// checkReport returns why a report is not the one asked for, or "".
func checkReport(j Job, doc *counter.Document) string {
	u := j.Unit
	if got := strings.ToLower(doc.ReportID); got != string(u.Report) {
		return fmt.Sprintf("asked for report %s, got %q", u.Report, doc.ReportID)
	}
	if j.Cred.Release != "" && doc.Release != "" && doc.Release != j.Cred.Release {
		return fmt.Sprintf("asked for release %s, got %s", j.Cred.Release, doc.Release)
	}
	h := doc.Header
	if (!h.Begin.IsZero() && h.Begin != u.Month) || (!h.End.IsZero() && h.End != u.Month) {
		return fmt.Sprintf("asked for %s, got a report for %s to %s", u.Month, h.Begin, h.End)
	}
	if !customerMatches(j.Cred, h) {
		return fmt.Sprintf("asked for customer %s, got a report for %q (%s)", j.Cred.CustomerID, h.InstitutionID+h.CustomerID, h.InstitutionName)
	}
	return ""
}

// customerMatches compares the report's Customer_ID and Institution_ID,
// when present, with the credential: one of the ids must be the customer
// id (bare or as a proprietary "ns:id") or the library's ISIL.
func customerMatches(c sushi.Credential, h counter.Header) bool {
	if c.CustomerID == "" {
		return true
	}
	if h.CustomerID != "" {
		return h.CustomerID == c.CustomerID
	}
	if strings.TrimSpace(h.InstitutionID) == "" {
		return true
	}
	for _, id := range strings.Split(h.InstitutionID, ";") {
		id = strings.TrimSpace(id)
		if id == c.CustomerID || strings.HasSuffix(id, ":"+c.CustomerID) {
			return true
		}
		if c.Library != "" && strings.EqualFold(id, "ISIL:"+c.Library.ISIL()) {
			return true
		}
	}
	return false
}

func hasCode(excs []counter.Exception, code int) bool {
	for _, e := range excs {
		if e.Code == code {
			return true
		}
	}
	return false
}

// byException maps the most telling COUNTER exception to a state: the one
// whose state is worst (bibstat.States).
func byException(excs []counter.Exception, status int) (outcome, bool) {
	var best counter.Exception
	var bestState bibstat.State
	for _, e := range excs {
		st := sushi.StateOfCode(e.Code)
		if st != "" && (bestState == "" || st.Severity() > bestState.Severity()) {
			best, bestState = e, st
		}
	}
	if bestState == "" {
		return outcome{}, false
	}
	best.Status = status
	return outcome{state: bestState, err: best.Error() + ": " + sushi.HintOfCode(best.Code), code: best.Code}, true
}

// byHTTPStatus classifies a response whose body said nothing usable.
func byHTTPStatus(resp *sushi.Response, why string) outcome {
	if why == "" {
		why = fmt.Sprintf("HTTP %d", resp.Status)
	} else {
		why = fmt.Sprintf("HTTP %d: %s", resp.Status, why)
	}
	st := sushi.StateOfHTTP(resp.Status)
	if st == "" {
		st = bibstat.StateFailed
	}
	return outcome{state: st, err: why}
}
