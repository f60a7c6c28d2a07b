package counter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Exception is a COUNTER_SUSHI exception: in a report header, as the
// whole body of a response, or in a tabular header's Exceptions row. Its
// JSON form is the wire form, so a SUSHI server sends it as it is. R5
// sends Severity; R5.1 dropped it ("use the HTTP status code and
// Exception Code"), so nothing here decides by it.
type Exception struct {
	Code     int    `json:"Code"`
	Severity string `json:"Severity,omitempty"`
	Message  string `json:"Message"`
	Data     string `json:"Data,omitempty"`
	HelpURL  string `json:"Help_URL,omitempty"`
	// Status is the HTTP status the exception came with; 0 inside a report header.
	Status int `json:"-"`
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration `json:"-"`
}

// NewException is the exception code with the table's message, which a
// server must send exactly, and data saying what in particular.
func NewException(code int, data string) Exception {
	return Exception{Code: code, Message: ExceptionInfo(code).Message, Data: data}
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

// Class is what the exception says about its request.
func (e *Exception) Class() ExceptionClass { return ExceptionInfo(e.Code).Class }

// ExceptionClass is what an exception says about the request that got it:
// the CoP's kinds of error (appendix D) told apart by what a client does
// next.
type ExceptionClass string

const (
	ClassInfo        ExceptionClass = "info"        // 0–999 and unknown codes from 3000 up: nothing about the request
	ClassWarning     ExceptionClass = "warning"     // a parameter was ignored: the report stands, but check its scope
	ClassUnavailable ExceptionClass = "unavailable" // the service cannot answer now: retry later, slower
	ClassQueued      ExceptionClass = "queued"      // the report is being prepared: ask again, the same way
	ClassCredentials ExceptionClass = "credentials" // the credentials or the customer are wrong: retrying cannot help
	ClassUnsupported ExceptionClass = "unsupported" // the report is not offered
	ClassInvalid     ExceptionClass = "invalid"     // the request is wrong (dates) or failed otherwise
	ClassNoUsage     ExceptionClass = "no_usage"    // final: there is no usage for the months
	ClassNotReady    ExceptionClass = "not_ready"   // the months are not processed yet: retry in days
	ClassPartial     ExceptionClass = "partial"     // some data are missing, usually for good
)

// ExceptionCode is one row of the CoP's table of exceptions.
type ExceptionCode struct {
	Code    int
	Message string // for codes over 999 a server must send it exactly
	// Status is the HTTP status of a response that is this exception
	// alone; 200 means it rides in a report's header.
	Status int
	Class  ExceptionClass
}

// exceptionCodes is CoP 5.1 Table D.1 with the R5 codes of CoP 5.0.3
// Table F.1 that R5.1 dropped (2030, 3000, 3010) and R5.1's additions
// (2011, 3063). Codes 0 (info) and 1–999 (vendor warnings) have no fixed
// message.
var exceptionCodes = []ExceptionCode{
	{1000, "Service Not Available", http.StatusServiceUnavailable, ClassUnavailable},
	{1010, "Service Busy", http.StatusServiceUnavailable, ClassUnavailable},
	{1011, "Report Queued for Processing", http.StatusAccepted, ClassQueued},
	{1020, "Client has made too many requests", http.StatusTooManyRequests, ClassUnavailable},
	{1030, "Insufficient Information to Process Request", http.StatusBadRequest, ClassCredentials},
	{2000, "Requestor Not Authorized to Access Service", http.StatusUnauthorized, ClassCredentials},
	{2010, "Requestor is Not Authorized to Access Usage for Institution", http.StatusForbidden, ClassCredentials},
	{2011, "Global Reports Not Supported", http.StatusForbidden, ClassCredentials},
	{2020, "APIKey Invalid", http.StatusUnauthorized, ClassCredentials},
	{2030, "IP Address Not Authorized to Access Service", http.StatusUnauthorized, ClassCredentials},
	{3000, "Report Not Supported", http.StatusNotFound, ClassUnsupported},
	{3010, "Report Version Not Supported", http.StatusNotFound, ClassUnsupported},
	{3020, "Invalid Date Arguments", http.StatusBadRequest, ClassInvalid},
	{3030, "No Usage Available for Requested Dates", http.StatusOK, ClassNoUsage},
	{3031, "Usage Not Ready for Requested Dates", http.StatusOK, ClassNotReady},
	{3032, "Usage No Longer Available for Requested Dates", http.StatusOK, ClassNoUsage},
	{3040, "Partial Data Returned", http.StatusOK, ClassPartial},
	{3050, "Parameter Not Recognized in this Context", http.StatusOK, ClassWarning},
	{3060, "Invalid ReportFilter Value", http.StatusOK, ClassWarning},
	{3061, "Incongruous ReportFilter Value", http.StatusOK, ClassWarning},
	{3062, "Invalid ReportAttribute Value", http.StatusOK, ClassWarning},
	{3063, "Components Not Supported", http.StatusOK, ClassWarning},
	{3070, "Required ReportFilter Missing", http.StatusOK, ClassWarning},
}

// ExceptionInfo is the table's row for code. A code not in the table is
// classed by its range, as vendors invent codes (1001, 2090, 3210): 2000–2030
// are about the requestor, other codes from 1000 to 2999 are errors, the
// rest say nothing about the request. Its Message is then "" and its
// Status 200.
func ExceptionInfo(code int) ExceptionCode {
	for _, c := range exceptionCodes {
		if c.Code == code {
			return c
		}
	}
	row := ExceptionCode{Code: code, Status: http.StatusOK, Class: ClassInfo}
	switch {
	case code >= 2000 && code <= 2030:
		row.Class = ClassCredentials
	case code >= 1000 && code < 3000:
		row.Class = ClassInvalid
	}
	return row
}

// ParseExceptions reads the exceptions of a body that is not a report (or
// not one counter.Read understands), defensively: a bare exception
// object, an array of them, an object with "Exception" or "Exceptions",
// lower-case keys, "Number" for "Code" and a code as a string. It returns
// nil when the body holds none.
func ParseExceptions(body []byte) []Exception {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, bom))
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
				out = append(out, Exception{Code: code, Severity: anyText(fold["severity"]), Message: anyText(fold["message"]),
					Data: anyText(fold["data"]), HelpURL: anyText(fold["help_url"])})
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

// anyText is a decoded JSON value as text: a string as it is, anything
// else as its JSON.
func anyText(v any) string {
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
