package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
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
	timeout, limit := f.Timeout, f.limit()
	if timeout <= 0 {
		timeout = 30 * time.Second
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

func (f *Fetcher) limit() int64 {
	if f.MaxBytes <= 0 {
		return 8 << 20
	}
	return f.MaxBytes
}

// Read reads what the operator named: an http(s) URL through Get, else a
// file, with the same size limit.
func (f *Fetcher) Read(ctx context.Context, arg string) ([]byte, error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		if _, err := linkURL(arg); err != nil {
			return nil, err
		}
		return f.Get(ctx, arg)
	}
	if strings.Contains(arg, "://") {
		return nil, fmt.Errorf("%q: want an http(s) URL or a file", arg)
	}
	file, err := os.Open(arg)
	if err != nil {
		return nil, fmt.Errorf("read registry file: %w", err)
	}
	defer file.Close()
	limit := f.limit()
	body, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", arg, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("read %s: %w: over %d bytes", arg, ErrTooLarge, limit)
	}
	return body, nil
}
