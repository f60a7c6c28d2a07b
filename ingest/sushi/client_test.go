package sushi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
)

func TestReportNeverLeaksSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("api_key"); got != "s3cret-key" {
			t.Errorf("server got api_key %q", got)
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	cred := Credential{ID: "2030100", Platform: "p", BaseURL: srv.URL + "/r51/", Release: "5.1",
		CustomerID: "c1", RequestorID: "req-secret", APIKey: "s3cret-key"}
	m := bibstat.Month{Year: 2025, Mon: 1}
	resp, err := (&Client{}).Report(context.Background(), cred, "pr", m, m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.URL, "s3cret") || strings.Contains(resp.URL, "req-secret") {
		t.Errorf("response URL leaks a secret: %s", resp.URL)
	}
	if !strings.Contains(resp.URL, "/r51/reports/pr?") {
		t.Errorf("URL %s: want one /r51 and the pr path", resp.URL)
	}

	srv.Close() // now the transport fails; its error must not leak either
	_, err = (&Client{}).Report(context.Background(), cred, "pr", m, m)
	if err == nil {
		t.Fatal("want a transport error")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "req-secret") {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestReportBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	cred := Credential{ID: "1", Platform: "p", BaseURL: srv.URL, Release: "5.1", CustomerID: "c"}
	m := bibstat.Month{Year: 2025, Mon: 1}
	if _, err := (&Client{MaxBody: 99}).Report(context.Background(), cred, "pr", m, m); err == nil {
		t.Fatal("want an error for a body over the limit")
	}
	if _, err := (&Client{MaxBody: 100}).Report(context.Background(), cred, "pr", m, m); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}
