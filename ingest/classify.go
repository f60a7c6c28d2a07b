package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/counter"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/schemas"
)

// outcome is what a response turned out to be.
type outcome struct {
	state   bibstat.State
	err     string // why, for every state but ok and zero
	release string
	rows    int64
	parquet []byte // the parsed rows, when state is loadable
}

// classify reads a response for unit u and decides its state. Only a
// report that is for the unit's month and parses cleanly is loadable.
func classify(ctx context.Context, u bibstat.Unit, rawKey string, resp *sushi.Response) outcome {
	var pq bytes.Buffer
	pw, err := schemas.NewParquetWriter(&pq)
	if err != nil {
		return outcome{state: bibstat.StateFailed, err: err.Error()}
	}
	doc, err := counter.Read(ctx, bytes.NewReader(resp.Body), counter.Options{Name: rawKey, SourceKey: rawKey}, pw.Write)
	closeErr := pw.Close()
	if err != nil {
		return byHTTPStatus(resp, fmt.Sprintf("not a COUNTER response: %v", err))
	}
	if closeErr != nil {
		return outcome{state: bibstat.StateFailed, err: closeErr.Error()}
	}
	o := outcome{release: doc.Release, rows: doc.Rows}
	if st, msg, ok := byException(doc.Exceptions); ok && (doc.Kind != counter.KindReport || st != bibstat.StatePartial) {
		o.state, o.err = st, msg
		if st == bibstat.StateZero {
			o.parquet = pq.Bytes()
		}
		return o
	}
	if resp.Status != http.StatusOK {
		return byHTTPStatus(resp, "")
	}
	if doc.Kind != counter.KindReport {
		o.state, o.err = bibstat.StateFailed, fmt.Sprintf("expected a report, got %s", doc.Kind)
		return o
	}
	if got := strings.ToLower(doc.ReportID); got != string(u.Report) {
		o.state, o.err = bibstat.StateFailed, fmt.Sprintf("asked for report %s, got %q", u.Report, doc.ReportID)
		return o
	}
	for _, m := range doc.Months() {
		if m != u.Month {
			o.state, o.err = bibstat.StateFailed, fmt.Sprintf("asked for %s, got usage for %s", u.Month, m)
			return o
		}
	}
	o.parquet = pq.Bytes()
	switch {
	case slices.ContainsFunc(doc.Exceptions, func(e counter.Exception) bool { return e.Code == 3040 }):
		o.state, o.err = bibstat.StatePartial, "3040 Partial Data Returned"
	case doc.Rows == 0:
		o.state = bibstat.StateZero
	default:
		o.state = bibstat.StateOK
	}
	return o
}

// byException maps the most telling COUNTER exception to a state.
func byException(excs []counter.Exception) (bibstat.State, string, bool) {
	for _, e := range excs {
		msg := fmt.Sprintf("%d %s", e.Code, e.Message)
		switch {
		case e.Code == 3030, e.Code == 3032:
			return bibstat.StateZero, msg, true
		case e.Code == 3031:
			return bibstat.StateNotReady, msg, true
		case e.Code == 1011:
			return bibstat.StateQueued, msg, true
		case e.Code == 1000, e.Code == 1010, e.Code == 1020:
			return bibstat.StateThrottled, msg, true
		case e.Code >= 2000 && e.Code <= 2030, e.Code == 1030:
			return bibstat.StateCredentialsBroken, msg, true
		case e.Code == 3000, e.Code == 3010:
			return bibstat.StateUnsupported, msg, true
		case e.Code == 3040:
			return bibstat.StatePartial, msg, true
		case e.Code == 3020:
			return bibstat.StateFailed, msg, true
		}
	}
	return "", "", false
}

// byHTTPStatus classifies a response whose body said nothing usable.
func byHTTPStatus(resp *sushi.Response, why string) outcome {
	if why == "" {
		why = fmt.Sprintf("HTTP %d", resp.Status)
	} else {
		why = fmt.Sprintf("HTTP %d: %s", resp.Status, why)
	}
	switch resp.Status {
	case http.StatusAccepted:
		return outcome{state: bibstat.StateQueued, err: why}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return outcome{state: bibstat.StateThrottled, err: why}
	case http.StatusUnauthorized, http.StatusForbidden:
		return outcome{state: bibstat.StateCredentialsBroken, err: why}
	case http.StatusNotFound:
		return outcome{state: bibstat.StateUnsupported, err: why}
	}
	return outcome{state: bibstat.StateFailed, err: why}
}
