package sushi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Credential is one library's access to one platform's SUSHI service.
// Its String, GoString and LogValue leave the secrets out, so printing or
// logging a Credential never leaks them.
type Credential struct {
	ID            string // unique within the platform, e.g. the library number
	Platform      string // platform id from config
	Library       bibstat.LibraryID
	BaseURL       string // the vendor's SUSHI base, without /r51
	Release       string // "5" or "5.1"
	CustomerID    string
	RequestorID   string // secret
	APIKey        string // secret
	PlatformParam string // the "platform" query parameter some hosts need
}

func (c Credential) String() string {
	return fmt.Sprintf("credential %s/%s (customer_id %s)", c.Platform, c.ID, c.CustomerID)
}

// GoString keeps %#v from printing the secrets.
func (c Credential) GoString() string { return c.String() }

// Format keeps every verb (%v, %+v, %s) from printing the secrets.
func (c Credential) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// LogValue logs the credential without its secrets.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("platform", c.Platform), slog.String("id", c.ID), slog.String("customer_id", c.CustomerID))
}

// Secrets lists the credential's secret values, for tests and scrubbing.
func (c Credential) Secrets() []string {
	var s []string
	for _, v := range []string{c.RequestorID, c.APIKey} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// Response is a vendor's answer: the body untouched, everything else
// with the credential's secrets removed.
type Response struct {
	URL         string // redacted
	Status      int
	ContentType string
	Body        []byte
	// RetryAfter is the server's Retry-After header, when present.
	RetryAfter time.Duration
	// Sent is when the request left; HeadersAt when the response headers
	// arrived. The vendor saw the request between the two.
	Sent, HeadersAt time.Time
	// Redactor removes the credential's secrets from text derived from
	// the body (an exception's message, say) before it is stored.
	Redactor *Redactor
}

// DefaultMaxBody bounds a response body: a larger one is an error, not an
// unbounded allocation.
const DefaultMaxBody = 512 << 20

// Client fetches reports.
type Client struct {
	// HTTP sends the requests; nil, or one without a Transport, sends them
	// through connections that keep a request's Gate (NewTransport).
	HTTP    *http.Client
	MaxBody int64
	// UserAgent names BibStat to vendors.
	UserAgent string
}

// endpoint builds the URL of path (e.g. "/reports/pr", "/members") on c's
// service, with /r51 for release 5.1, the credential's parameters and
// extra ones (name, value, …).
func endpoint(c Credential, path string, withCustomer bool, extra ...string) (*url.URL, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	base = strings.TrimSuffix(base, "/r51") // registry URLs sometimes include it
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("credential %s/%s: base URL is not an http(s) URL", c.Platform, c.ID)
	}
	if c.Release == "5.1" {
		path = "/r51" + path
	}
	u.Path += path
	q := url.Values{}
	if withCustomer {
		q.Set("customer_id", c.CustomerID)
		if c.RequestorID != "" {
			q.Set("requestor_id", c.RequestorID)
		}
		if c.APIKey != "" {
			q.Set("api_key", c.APIKey)
		}
	}
	if c.PlatformParam != "" {
		q.Set("platform", c.PlatformParam)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// ReportURL builds the request URL for report over [begin, end].
func ReportURL(c Credential, report bibstat.ReportID, begin, end bibstat.Month) (*url.URL, error) {
	return endpoint(c, "/reports/"+string(report), true, "begin_date", begin.String(), "end_date", end.String(),
		"attributes_to_show", AttributesToShow(c.Release, report))
}

// AttributesToShow is what a master report is asked to show so that every
// column COUNTER R5.1 makes mandatory arrives: Data_Type (and, for TR, YOP
// and Access_Type, which the Standard Views are cut by), with Access_Method
// to tell TDM from Regular. R5 shows Data_Type only when asked; R5.1 always
// shows it and lists it in no report's Attributes_To_Show, so asking would
// earn a 3062 there. Standard Views take no attributes: "" asks nothing.
func AttributesToShow(release string, report bibstat.ReportID) string {
	var attrs string
	switch report {
	case "pr", "dr", "ir":
		attrs = "Access_Method"
	case "tr":
		attrs = "YOP|Access_Type|Access_Method"
	default:
		return ""
	}
	if release != "5.1" {
		attrs = "Data_Type|" + attrs
	}
	return attrs
}

// secretParams are removed from every URL that leaves the client.
var secretParams = []string{"api_key", "requestor_id", "apikey", "key", "token", "password"}

// Redact returns u as a string without secret query parameters or userinfo.
func Redact(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	for _, p := range secretParams {
		if q.Has(p) {
			q.Set(p, "REDACTED")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// Report fetches one report. A non-200 answer is a Response, not an error:
// the vendor's body is kept for the archive. The error is for transport
// failures and bodies over the size limit.
func (cl *Client) Report(ctx context.Context, c Credential, report bibstat.ReportID, begin, end bibstat.Month) (*Response, error) {
	u, err := ReportURL(c, report, begin, end)
	if err != nil {
		return nil, err
	}
	return cl.get(ctx, c, u)
}

func (cl *Client) get(ctx context.Context, c Credential, u *url.URL) (*Response, error) {
	red := NewRedactor(c)
	redacted := red.String(Redact(u))
	req, err := http.NewRequestWithContext(withGateTrace(ctx), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: build request failed", redacted)
	}
	req.Header.Set("Accept", "application/json")
	if cl.UserAgent != "" {
		req.Header.Set("User-Agent", cl.UserAgent)
	}
	sent := time.Now()
	resp, err := cl.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", redacted, scrub(err, u, red))
	}
	headersAt := time.Now()
	defer resp.Body.Close()
	limit := cl.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := readBody(resp.Body, resp.ContentLength, limit)
	if err != nil {
		return nil, fmt.Errorf("read body of %s: %w", redacted, scrub(err, u, red))
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("read body of %s: larger than %d bytes", redacted, limit)
	}
	return &Response{URL: redacted, Status: resp.StatusCode, ContentType: red.String(resp.Header.Get("Content-Type")), Body: body,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), headersAt), Sent: sent, HeadersAt: headersAt, Redactor: red}, nil
}

// readBody reads a body of size bytes (-1: unknown) up to limit+1 bytes.
// A known size is read into a buffer of that size rather than one grown
// from 512 bytes by doubling: net/http ends the body at its
// Content-Length, and fails it when shorter.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// scrub removes the unredacted URL and the secrets from a transport error,
// which net/http puts in *url.Error (with a redirect's URL, too).
func scrub(err error, u *url.URL, red *Redactor) error {
	var ue *url.Error
	msg := err.Error()
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	msg = strings.ReplaceAll(msg, u.RawQuery, redacted)
	switch {
	case errors.Is(err, context.Canceled):
		return red.Error(fmt.Errorf("%s: %w", msg, context.Canceled))
	case errors.Is(err, context.DeadlineExceeded):
		return red.Error(fmt.Errorf("%s: %w", msg, context.DeadlineExceeded))
	}
	return red.Error(errors.New(msg))
}

// call fetches a non-report endpoint and decodes a 200 JSON answer into v;
// any other answer is a *counter.Exception (or a plain error if the body has none).
func (cl *Client) call(ctx context.Context, c Credential, path string, withCustomer bool, v any) error {
	u, err := endpoint(c, path, withCustomer)
	if err != nil {
		return err
	}
	resp, err := cl.get(ctx, c, u)
	if err != nil {
		return err
	}
	if excs := counter.ParseExceptions(resp.Body); len(excs) > 0 && (resp.Status != http.StatusOK || !isArray(resp.Body)) {
		e := excs[0]
		e.Status, e.RetryAfter = resp.Status, resp.RetryAfter
		return resp.Redactor.Error(fmt.Errorf("%s %s: %w", path, c, &e))
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", path, c, resp.Status)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return resp.Redactor.Error(fmt.Errorf("%s %s: decode: %w", path, c, err))
	}
	return nil
}

func isArray(b []byte) bool {
	s := strings.TrimSpace(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(s, "[") && !strings.Contains(strings.ToLower(s), `"code"`)
}

// ServiceStatus is one entry of /status.
type ServiceStatus struct {
	Description   string `json:"Description"`
	ServiceActive bool   `json:"Service_Active"`
	Note          string `json:"Note,omitempty"`
	Alerts        []struct {
		DateTime string `json:"Date_Time"`
		Alert    string `json:"Alert"`
	} `json:"Alerts,omitempty"`
}

// Status asks the service whether it is up. R5.1's /r51/status is public;
// R5's wants the customer.
func (cl *Client) Status(ctx context.Context, c Credential) ([]ServiceStatus, error) {
	var out []ServiceStatus
	err := cl.call(ctx, c, "/status", c.Release != "5.1", &out)
	return out, err
}

// ReportInfo is one entry of /reports.
type ReportInfo struct {
	ReportName  string `json:"Report_Name"`
	ReportID    string `json:"Report_ID"`
	Release     string `json:"Release"`
	Description string `json:"Report_Description"`
	Path        string `json:"Path,omitempty"`
	FirstMonth  string `json:"First_Month_Available,omitempty"`
	LastMonth   string `json:"Last_Month_Available,omitempty"`
}

// Reports lists the reports the service offers the customer.
func (cl *Client) Reports(ctx context.Context, c Credential) ([]ReportInfo, error) {
	var out []ReportInfo
	err := cl.call(ctx, c, "/reports", true, &out)
	return out, err
}

// Member is one entry of /members: a customer the consortium credential
// may harvest for.
type Member struct {
	CustomerID     string
	RequestorID    string // only when it differs from the consortium's
	Name           string
	Notes          string
	InstitutionIDs []string // "ISIL:NO-2030100", "Proprietary:…"
}

// Members lists the consortium's members (R5 /members, R5.1 /r51/members).
func (cl *Client) Members(ctx context.Context, c Credential) ([]Member, error) {
	var raw []map[string]json.RawMessage
	if err := cl.call(ctx, c, "/members", true, &raw); err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(raw))
	for _, m := range raw {
		var mem Member
		s := func(k string) string {
			var v string
			_ = json.Unmarshal(m[k], &v)
			return v
		}
		mem.CustomerID, mem.RequestorID, mem.Notes = s("Customer_ID"), s("Requestor_ID"), s("Notes")
		if mem.Name = s("Institution_Name"); mem.Name == "" {
			mem.Name = s("Name")
		}
		// R5.1: {"ISIL": ["NO-…"]}; R5: [{"Type": "ISIL", "Value": "NO-…"}].
		var obj map[string][]string
		var arr []struct{ Type, Value string }
		if json.Unmarshal(m["Institution_ID"], &obj) == nil {
			for ns, vs := range obj {
				for _, v := range vs {
					mem.InstitutionIDs = append(mem.InstitutionIDs, ns+":"+v)
				}
			}
		} else if json.Unmarshal(m["Institution_ID"], &arr) == nil {
			for _, id := range arr {
				mem.InstitutionIDs = append(mem.InstitutionIDs, id.Type+":"+id.Value)
			}
		}
		sort.Strings(mem.InstitutionIDs)
		out = append(out, mem)
	}
	return out, nil
}

// ISIL returns the member's ISIL ("NO-2030100"), if it has one.
func (m Member) ISIL() string {
	for _, id := range m.InstitutionIDs {
		if v, ok := strings.CutPrefix(id, "ISIL:"); ok {
			return v
		}
	}
	return ""
}
