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
	u := j.Unit
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
	doc, err := counter.Read(ctx, bytes.NewReader(resp.Body), counter.Options{Name: rawKey, SourceKey: rawKey,
		MaxLineBytes: lineBytes}, nil)
	if err != nil {
		// A truncated or garbled body: its exceptions, if any could be read, still tell.
		if excs := counter.ParseExceptions(resp.Body); len(excs) > 0 {
			if o, ok := byException(excs, resp.Status); ok {
				return o
			}
		}
		return byHTTPStatus(resp, fmt.Sprintf("not a COUNTER response: %v", err))
	}
	o := outcome{release: doc.Release, rows: doc.Rows}
	if eo, ok := byException(doc.Exceptions, resp.Status); ok && (doc.Kind != counter.KindReport || eo.state != bibstat.StatePartial) {
		eo.release, eo.rows = o.release, o.rows
		if eo.state == bibstat.StateZero {
			if doc.Kind == counter.KindReport {
				if msg := checkReport(j, doc); msg != "" {
					return outcome{state: bibstat.StateFailed, err: msg, release: doc.Release}
				}
			}
			if doc.Rows > 0 {
				// 3030 with usage rows: the rows are what counts.
				eo.state, eo.err = bibstat.StateOK, ""
			}
		}
		return eo
	}
	if resp.Status != http.StatusOK {
		return byHTTPStatus(resp, "")
	}
	if doc.Kind != counter.KindReport {
		o.state, o.err = bibstat.StateFailed, fmt.Sprintf("expected a report, got %s", doc.Kind)
		return o
	}
	if msg := checkReport(j, doc); msg != "" {
		o.state, o.err = bibstat.StateFailed, msg
		return o
	}
	for _, m := range doc.Months() {
		if m != u.Month {
			o.state, o.err = bibstat.StateFailed, fmt.Sprintf("asked for %s, got usage for %s", u.Month, m)
			return o
		}
	}
	switch {
	case hasCode(doc.Exceptions, 3040):
		o.state, o.err, o.code = bibstat.StatePartial, "3040 Partial Data Returned", 3040
	case doc.Rows == 0:
		o.state = bibstat.StateZero
	default:
		o.state = bibstat.StateOK
	}
	return o
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
