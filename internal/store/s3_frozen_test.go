package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// frozenServer accepts TCP connections on loopback and never answers, as
// an S3 server whose process hangs does.
func frozenServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c) // read the request, answer nothing
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// s3Ops is one call of each operation of s, by name.
func s3Ops(ctx context.Context, s *store.S3) map[string]func() error {
	return map[string]func() error{
		"Put":    func() error { return s.Put(ctx, "k", strings.NewReader("x")) },
		"Get":    func() error { _, err := s.Get(ctx, "k"); return err },
		"List":   func() error { _, err := s.List(ctx, ""); return err },
		"Delete": func() error { return s.Delete(ctx, "k") },
		"Check":  func() error { return s.Check(ctx) },
	}
}

// TestS3FrozenServer: every operation against a server that accepts
// connections and never answers fails as ErrStoreUnavailable within the
// store's timeout, before the caller's own (much later) deadline.
func TestS3FrozenServer(t *testing.T) {
	s, err := store.NewS3(context.Background(), store.S3Config{
		Endpoint: "http://" + frozenServer(t), Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKeyID: vgwAccess, SecretAccessKey: vgwSecret, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The caller's deadline is a guard: hitting it means the store did not
	// give up by its own timeout (the SDK's retries alone take about 55 s).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for op, f := range s3Ops(ctx, s) {
		wg.Go(func() {
			err := f()
			if !errors.Is(err, bibstat.ErrStoreUnavailable) || ctx.Err() != nil {
				t.Errorf("%s: err = %v (caller's deadline: %v), want ErrStoreUnavailable from the store", op, err, ctx.Err())
			} else if strings.Contains(err.Error(), vgwSecret) {
				t.Errorf("%s error shows the secret: %v", op, err)
			}
		})
	}
	wg.Wait()
}

// TestS3FrozenServerDefault: with the default timeout a frozen server is
// known within 30 s.
func TestS3FrozenServerDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the default timeout, 25 s")
	}
	if store.DefaultS3Timeout > 30*time.Second {
		t.Fatalf("DefaultS3Timeout %v is over 30 s", store.DefaultS3Timeout)
	}
	s, err := store.NewS3(context.Background(), store.S3Config{
		Endpoint: "http://" + frozenServer(t), Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKeyID: vgwAccess, SecretAccessKey: vgwSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Put(ctx, "k", strings.NewReader("x")); !errors.Is(err, bibstat.ErrStoreUnavailable) || ctx.Err() != nil {
		t.Errorf("Put: err = %v (30 s deadline: %v), want ErrStoreUnavailable from the store", err, ctx.Err())
	}
}

// TestS3StallMidBody: a download whose server sends the headers and part
// of the body, then goes silent, fails as ErrStoreUnavailable within the
// timeout; time the reader spends between reads is not counted.
func TestS3StallMidBody(t *testing.T) {
	more := make(chan struct{}) // closed: the server sends the rest of the first download
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := n.Add(1) == 1
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("0123456789"))
		w.(http.Flusher).Flush()
		if first {
			select {
			case <-more:
				w.Write(make([]byte, 90))
				return
			case <-r.Context().Done():
				return
			}
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	s, err := store.NewS3(context.Background(), store.S3Config{
		Endpoint: srv.URL, Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKeyID: vgwAccess, SecretAccessKey: vgwSecret, Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	read := func(busy func()) ([]byte, error) {
		body, err := s.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		buf := make([]byte, 10)
		if _, err := io.ReadFull(body, buf); err != nil {
			t.Fatalf("first bytes: %v", err)
		}
		busy()
		return io.ReadAll(body)
	}
	// A reader busy for longer than the timeout between reads is no stall.
	rest, err := read(func() { time.Sleep(1500 * time.Millisecond); close(more) })
	if err != nil || len(rest) != 90 {
		t.Errorf("a busy reader's download: %d bytes, %v; want the other 90", len(rest), err)
	}
	// A server silent while the reader waits is.
	if _, err = read(func() {}); !errors.Is(err, bibstat.ErrStoreUnavailable) || ctx.Err() != nil {
		t.Errorf("read of a stalled body: err = %v (caller's deadline: %v), want ErrStoreUnavailable", err, ctx.Err())
	}
}
