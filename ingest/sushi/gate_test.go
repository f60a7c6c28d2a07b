package sushi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/bibliotek24/bibstat"
)

// countGate counts its calls, and refuses every Wait once refuse is set.
type countGate struct {
	mu          sync.Mutex
	waits, sent int
	refuse      bool
}

var errRefused = errors.New("refused")

func (g *countGate) Wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waits++
	if g.refuse {
		return errRefused
	}
	return nil
}

func (g *countGate) Sent() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent++
}

func (g *countGate) counts() (waits, sent int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waits, g.sent
}

// TestGate: every request a Client writes passes its gate once before its
// first byte, a redirect's too; a request without a gate on the same
// connection calls none; a refused Wait sends nothing.
func TestGate(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		if r.URL.Query().Get("moved") == "" {
			http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusFound)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cred := Credential{ID: "1", Platform: "p", BaseURL: srv.URL, Release: "5.1", CustomerID: "c"}
	m := bibstat.Month{Year: 2025, Mon: 1}
	for _, tc := range []struct {
		name string
		cl   *Client
	}{
		{"no HTTP client", &Client{}},
		{"no transport", &Client{HTTP: &http.Client{}}},
		{"NewTransport", &Client{HTTP: &http.Client{Transport: NewTransport()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &countGate{}
			if _, err := tc.cl.Report(WithGate(context.Background(), g), cred, "pr", m, m); err != nil {
				t.Fatal(err)
			}
			if w, s := g.counts(); w != 2 || s < 2 {
				t.Errorf("a request and its redirect: %d waits, %d writes noted; want 2 and at least 2", w, s)
			}
			if _, err := tc.cl.Report(context.Background(), cred, "pr", m, m); err != nil {
				t.Fatal(err)
			}
			if w, _ := g.counts(); w != 2 {
				t.Errorf("a request without the gate on its connection waited on it: %d waits", w)
			}

			g.refuse = true
			mu.Lock()
			before := hits
			mu.Unlock()
			if _, err := tc.cl.Report(WithGate(context.Background(), g), cred, "pr", m, m); err == nil {
				t.Error("a refused request succeeded")
			}
			mu.Lock()
			defer mu.Unlock()
			if hits != before {
				t.Errorf("a refused request reached the server")
			}
		})
	}
}
