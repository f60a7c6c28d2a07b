package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// ErrTooLarge means a response was over the fetcher's size limit.
var ErrTooLarge = errors.New("response too large")

// Fetcher reads registry URLs over HTTP with a time and a size limit.
type Fetcher struct {
	Client   *http.Client  // nil: http.DefaultClient's transport
	Timeout  time.Duration // per request, body included; zero: 30 s
	MaxBytes int64         // zero: 8 MiB (the whole platform list is about 2 MiB)
}

// Get fetches u; every error names it (without any credentials in it).
func (f *Fetcher) Get(ctx context.Context, u string) ([]byte, error) {
	name := u
	if pu, err := url.Parse(u); err == nil {
		name = pu.Redacted()
	}
	body, err := f.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	return body, nil
}

func (f *Fetcher) get(ctx context.Context, u string) ([]byte, error) {
	timeout, limit := f.Timeout, f.MaxBytes
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if limit <= 0 {
		limit = 8 << 20
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err // the URL is named once, by Get
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return body, nil
}
