package sushi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// StateOfCode maps a COUNTER exception code, through its class in
// counter's table, to the unit state it puts a harvest unit in; "" for
// informational codes and warnings (0–999, 3050–3070), which say nothing
// about the unit.
func StateOfCode(code int) bibstat.State {
	switch counter.ExceptionInfo(code).Class {
	case counter.ClassNoUsage:
		return bibstat.StateZero
	case counter.ClassNotReady:
		return bibstat.StateNotReady
	case counter.ClassQueued:
		return bibstat.StateQueued
	case counter.ClassUnavailable:
		return bibstat.StateThrottled
	case counter.ClassCredentials:
		return bibstat.StateCredentialsBroken
	case counter.ClassUnsupported:
		return bibstat.StateUnsupported
	case counter.ClassPartial:
		return bibstat.StatePartial
	case counter.ClassInvalid:
		return bibstat.StateFailed
	}
	return ""
}

// StateOfHTTP maps an HTTP status without a usable body to a unit state.
func StateOfHTTP(status int) bibstat.State {
	switch status {
	case http.StatusOK:
		return ""
	case http.StatusAccepted:
		return bibstat.StateQueued
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return bibstat.StateThrottled
	case http.StatusUnauthorized, http.StatusForbidden:
		return bibstat.StateCredentialsBroken
	case http.StatusNotFound:
		return bibstat.StateUnsupported
	}
	return bibstat.StateFailed
}

// HintOfCode is the operator's next step for a code: what its class
// means for BibStat, told apart by code where the class has several
// causes with different remedies.
func HintOfCode(code int) string {
	switch counter.ExceptionInfo(code).Class {
	case counter.ClassUnavailable:
		if code == 1000 {
			return "the vendor's service is down; BibStat retries in hours"
		}
		return "the vendor asks us to slow down; BibStat pauses this host and retries"
	case counter.ClassQueued:
		return "the vendor is preparing the report; BibStat asks again in minutes"
	case counter.ClassCredentials:
		switch code {
		case 1030:
			return "a required parameter is missing: check customer_id, requestor_id and the platform parameter in the config"
		case 2010:
			return "the requestor may not see this customer_id: check customer_id with the vendor"
		case 2011:
			return "the vendor does not offer consortium-wide reports: harvest each member"
		}
		return "the vendor rejects the requestor_id or api_key: get new credentials from the vendor and update the secret"
	case counter.ClassUnsupported:
		return "the platform does not offer this report: remove it from the platform's reports"
	case counter.ClassNoUsage:
		return "no usage for the month: nothing to do"
	case counter.ClassNotReady:
		return "the month is not processed yet: BibStat retries over the coming days"
	case counter.ClassPartial:
		return "the vendor says the data are incomplete: loaded and flagged; BibStat re-checks later"
	case counter.ClassWarning:
		return "a parameter or filter was ignored: check the data's scope"
	case counter.ClassInvalid:
		if code == 3020 {
			return "the vendor rejects the dates: a month in the future, or before its data begins"
		}
	}
	return "see the vendor's message"
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
