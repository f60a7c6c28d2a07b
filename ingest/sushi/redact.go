package sushi

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat/counter"
)

// redacted replaces a secret in text that leaves the client.
const redacted = "REDACTED"

// Redactor removes a credential's secret values from text: raw, and in the
// forms a vendor may echo them in (query- and path-escaped, with either
// case of percent-escapes). Vendors repeat api_key and requestor_id in
// error messages, headers and redirect URLs, and whatever leaves the client
// ends up in the ledger, sidecars, logs and reports.
type Redactor struct {
	forms []string // longest first, so no part of a secret survives a shorter form
}

// NewRedactor is the redactor of the credential's secrets.
func NewRedactor(c Credential) *Redactor {
	r := &Redactor{}
	for _, s := range c.Secrets() {
		for _, f := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			for _, v := range []string{f, strings.ToLower(f)} {
				if v != "" && !slices.Contains(r.forms, v) && (v == f || strings.Contains(f, "%")) {
					r.forms = append(r.forms, v)
				}
			}
		}
	}
	slices.SortFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	return r
}

// String is s without the secrets.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// Error is err with the secrets removed from its text. What errors.Is
// and errors.As match on survives: context errors, and a COUNTER
// exception with its fields redacted.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	var exc *counter.Exception
	switch {
	case errors.As(err, &exc):
		e := *exc
		e.Message, e.Data, e.HelpURL = r.String(e.Message), r.String(e.Data), r.String(e.HelpURL)
		return &redactedError{msg: msg, cause: &e}
	case errors.Is(err, context.Canceled):
		return &redactedError{msg: msg, cause: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return &redactedError{msg: msg, cause: context.DeadlineExceeded}
	}
	return errors.New(msg)
}

// redactedError keeps a redacted text and the one cause callers match on.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
