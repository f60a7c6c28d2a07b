package sushi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// Exception is a COUNTER_SUSHI exception: the typed error of this package.
// R5 sends Severity; R5.1 dropped it (use Code and the HTTP status).
type Exception struct {
	Code     int
	Severity string
	Message  string
	Data     string
	HelpURL  string
	// Status is the HTTP status the exception came with; 0 inside a report header.
	Status int
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Exception) Error() string {
	s := fmt.Sprintf("sushi exception %d %s", e.Code, e.Message)
	if e.Data != "" {
		s += " (" + e.Data + ")"
	}
	if e.Status != 0 && e.Status != http.StatusOK {
		s += fmt.Sprintf(" [HTTP %d]", e.Status)
	}
	return s
}

// State is the unit state the exception puts a harvest unit in.
func (e *Exception) State() bibstat.State { return StateOfCode(e.Code) }

// Hint tells an operator what to do about the exception.
func (e *Exception) Hint() string { return HintOfCode(e.Code) }

// StateOfCode maps a COUNTER exception code to a unit state; "" for
// informational codes (0–999 and warnings such as 3050–3070) that say
// nothing about the unit.
func StateOfCode(code int) bibstat.State {
	switch {
	case code == 3030, code == 3032:
		return bibstat.StateZero
	case code == 3031:
		return bibstat.StateNotReady
	case code == 1011:
		return bibstat.StateQueued
	case code == 1000, code == 1010, code == 1020:
		return bibstat.StateThrottled
	case code >= 2000 && code <= 2030, code == 1030:
		return bibstat.StateCredentialsBroken
	case code == 3000, code == 3010:
		return bibstat.StateUnsupported
	case code == 3040:
		return bibstat.StatePartial
	case code == 3020:
		return bibstat.StateFailed
	case code >= 1000 && code < 3000:
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

// HintOfCode is the operator's next step for a code.
func HintOfCode(code int) string {
	switch {
	case code == 1000:
		return "the vendor's service is down; BibStat retries in hours"
	case code == 1010, code == 1020:
		return "the vendor asks us to slow down; BibStat pauses this host and retries"
	case code == 1011:
		return "the vendor is preparing the report; BibStat asks again in minutes"
	case code == 1030:
		return "a required parameter is missing: check customer_id, requestor_id and the platform parameter in the config"
	case code == 2000, code == 2020, code == 2030:
		return "the vendor rejects the requestor_id or api_key: get new credentials from the vendor and update the secret"
	case code == 2010:
		return "the requestor may not see this customer_id: check customer_id with the vendor"
	case code == 2011:
		return "the vendor does not offer consortium-wide reports: harvest each member"
	case code == 3000, code == 3010:
		return "the platform does not offer this report: remove it from the platform's reports"
	case code == 3020:
		return "the vendor rejects the dates: a month in the future, or before its data begins"
	case code == 3030, code == 3032:
		return "no usage for the month: nothing to do"
	case code == 3031:
		return "the month is not processed yet: BibStat retries over the coming days"
	case code == 3040:
		return "the vendor says the data are incomplete: loaded and flagged; BibStat re-checks later"
	case code >= 3050 && code <= 3070:
		return "a parameter or filter was ignored: check the data's scope"
	}
	return "see the vendor's message"
}

// ParseExceptions reads the exceptions of a non-report body, defensively:
// a bare exception object, an array of them, an object with "Exception"
// or "Exceptions", R5 lower-case keys and Code as a string. It returns nil
// when the body holds none.
func ParseExceptions(body []byte) []Exception {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(body) == 0 || (body[0] != '{' && body[0] != '[') {
		return nil
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil
	}
	var out []Exception
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 4 {
			return
		}
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				walk(e, depth+1)
			}
		case map[string]any:
			fold := map[string]any{}
			for k, v := range t {
				fold[strings.ToLower(k)] = v
			}
			code, ok := codeOf(fold["code"])
			if !ok {
				code, ok = codeOf(fold["number"])
			}
			if ok {
				out = append(out, Exception{Code: code, Severity: str(fold["severity"]), Message: str(fold["message"]),
					Data: str(fold["data"]), HelpURL: str(fold["help_url"])})
				return
			}
			for _, k := range []string{"exception", "exceptions"} {
				if v, ok := fold[k]; ok {
					walk(v, depth+1)
				}
			}
		}
	}
	walk(raw, 0)
	return out
}

func codeOf(v any) (int, bool) {
	switch t := v.(type) {
	case float64:
		return int(t), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		return n, err == nil
	}
	return 0, false
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
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
