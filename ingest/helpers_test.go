package ingest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

type recorder struct {
	body bytes.Buffer
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(c int)           { r.code = c }

func mustReq(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }

// countingTransport is a transport that counts in hits every request it
// writes whole to a connection. A GET is one write: its head fits the
// transport's write buffer.
func countingTransport(hits *hitCounter) *http.Transport {
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, hits: hits}, nil
	}}
}

// countingConn counts the writes that reach the socket whole. The
// transport writes from a goroutine of its own, which can outlive a
// cancelled request; but it closes the connection before the request
// returns, and Close waits for a write in progress and stops any after it,
// so once a run returns its count is complete.
type countingConn struct {
	net.Conn
	hits   *hitCounter
	mu     sync.Mutex
	closed bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Write(b)
	if n == len(b) {
		c.hits.wrote()
	}
	return n, err
}

func (c *countingConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

// fixedFetcher answers every report request with one response, for a
// vendor answering in a way the simulator does not.
type fixedFetcher struct{ resp sushi.Response }

func (f fixedFetcher) Report(ctx context.Context, c sushi.Credential, report bibstat.ReportID, begin, end bibstat.Month) (*sushi.Response, error) {
	r := f.resp
	return &r, nil
}
