package sushi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Credential is one library's access to one platform's SUSHI service.
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

// Response is a vendor's answer, untouched.
type Response struct {
	URL         string // redacted
	Status      int
	ContentType string
	Body        []byte
}

// DefaultMaxBody bounds a response body: a larger one is an error, not an
// unbounded allocation.
const DefaultMaxBody = 512 << 20

// Client fetches reports.
type Client struct {
	HTTP    *http.Client
	MaxBody int64
	// UserAgent names BibStat to vendors.
	UserAgent string
}

// ReportURL builds the request URL for report over [begin, end].
func ReportURL(c Credential, report bibstat.ReportID, begin, end bibstat.Month) (*url.URL, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	base = strings.TrimSuffix(base, "/r51") // registry URLs sometimes include it
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("credential %s/%s: base URL is not an http(s) URL", c.Platform, c.ID)
	}
	path := "/reports/" + string(report)
	if c.Release == "5.1" {
		path = "/r51" + path
	}
	u.Path += path
	q := url.Values{}
	q.Set("customer_id", c.CustomerID)
	if c.RequestorID != "" {
		q.Set("requestor_id", c.RequestorID)
	}
	if c.APIKey != "" {
		q.Set("api_key", c.APIKey)
	}
	if c.PlatformParam != "" {
		q.Set("platform", c.PlatformParam)
	}
	q.Set("begin_date", begin.String())
	q.Set("end_date", end.String())
	if report == "pr" {
		q.Set("attributes_to_show", "Access_Method")
	}
	u.RawQuery = q.Encode()
	return u, nil
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
	redacted := Redact(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: build request failed", redacted)
	}
	req.Header.Set("Accept", "application/json")
	if cl.UserAgent != "" {
		req.Header.Set("User-Agent", cl.UserAgent)
	}
	httpc := cl.HTTP
	if httpc == nil {
		httpc = http.DefaultClient
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", redacted, scrub(err, u))
	}
	defer resp.Body.Close()
	limit := cl.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body of %s: %w", redacted, scrub(err, u))
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("read body of %s: larger than %d bytes", redacted, limit)
	}
	return &Response{URL: redacted, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

// scrub removes the unredacted URL from a transport error, which net/http
// puts in *url.Error.
func scrub(err error, u *url.URL) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s", ue.Err.Error())
	}
	msg := err.Error()
	if strings.Contains(msg, u.RawQuery) {
		return fmt.Errorf("%s", strings.ReplaceAll(msg, u.RawQuery, "REDACTED"))
	}
	return err
}
