package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bibliotek24/bibstat"
)

// isNotFound reports whether err says the object does not exist. Only the
// codes for a missing object count, or a bare 404 without one: a 404 with
// another code (NoSuchBucket, or versitygw's XAdminUserNotFound for an
// unknown access key) is a configuration error, not a missing key.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() != "" {
		code := api.ErrorCode()
		return code == "NoSuchKey" || code == "NotFound"
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound
}

// fail wraps err from operation op on key. Errors that say the server could
// not be reached or kept failing (connection errors, timeouts, 5xx after all
// retries) also wrap bibstat.ErrStoreUnavailable; a done ctx is the caller's
// doing and does not. Secrets are redacted from the message.
func (s *S3) fail(ctx context.Context, op, key string, err error) error {
	switch {
	case errors.Is(context.Cause(ctx), errNoAnswer):
		if !errors.Is(err, errNoAnswer) {
			err = fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		err = fmt.Errorf("s3 %s %s: %w: %w", op, key, bibstat.ErrStoreUnavailable, err)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		err = fmt.Errorf("s3 %s %s: %w: %w", op, key, ctx.Err(), err)
	case ctx.Err() == nil && unavailable(err):
		err = fmt.Errorf("s3 %s %s: %w: %w", op, key, bibstat.ErrStoreUnavailable, err)
	default:
		err = fmt.Errorf("s3 %s %s: %w", op, key, err)
	}
	return redact(err, s.secrets)
}

// unavailable reports whether err means the server is down, unreachable or
// failing, as opposed to refusing this one request.
func unavailable(err error) bool {
	var cred *credentialsError
	if errors.As(err, &cred) {
		return false // even when an unreachable metadata endpoint caused it
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// markCredentialErrors marks the errors of a credential provider, so that
// failing to get credentials is never mistaken for an unavailable store.
type markCredentialErrors struct {
	aws.CredentialsProvider
}

func (p markCredentialErrors) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err: err}
	}
	return c, nil
}

// credentialsError says no credentials could be had: a configuration error.
type credentialsError struct {
	err error
}

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// redact replaces every secret in err's message; errors.Is and errors.As
// still see the wrapped chain.
func redact(err error, secrets []string) error {
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
