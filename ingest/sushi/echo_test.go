package sushi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
)

// Secrets with characters that every escaping changes.
const (
	echoKey = "k3y/with+sp ce&=ø"
	echoRID = "req@id/ø"
)

// echoing is a vendor that repeats the caller's secrets wherever it can:
// in exception messages (raw, query- and path-escaped), in plain-text
// errors, in headers and in the URL it redirects to.
func echoing(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		key, rid := q.Get("api_key"), q.Get("requestor_id")
		w.Header().Set("X-Echo", key)
		switch q.Get("begin_date") {
		case "2025-01": // an exception whose message repeats the key three ways
			w.Header().Set("Content-Type", "application/json; api_key="+url.QueryEscape(key))
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"Code":2020,"Severity":"Error","Message":"APIKey %s invalid","Data":"requestor %s, key %s, %s"}`,
				key, url.QueryEscape(rid), url.PathEscape(key), strings.ToLower(url.QueryEscape(key)))
		case "2025-02": // plain text under 500
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "internal error for %s with %s: %s", rid, key, r.URL.RawQuery)
		case "2025-03": // a redirect to a URL that carries the secrets and never answers
			http.Redirect(w, r, "http://127.0.0.1:1/"+url.PathEscape(key)+"?requestor_id="+url.QueryEscape(rid), http.StatusFound)
		default: // redirect to itself forever, secrets in the path
			http.Redirect(w, r, srv.URL+"/loop/"+url.PathEscape(rid)+"/r51/reports/pr?"+r.URL.RawQuery, http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEchoedSecretsStayOut harvests four months from a vendor that echoes
// the secrets and finds none of them in the ledger, the sidecars or the
// logs; the raw bodies keep them, byte-exact.
func TestEchoedSecretsStayOut(t *testing.T) {
	srv := echoing(t)
	dir := t.TempDir()
	led, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	st := store.NewMemory()
	var logs bytes.Buffer
	h := &ingest.Harvester{Store: st, Ledger: led, Spacing: time.Millisecond,
		Log:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 5 * time.Second}}}
	var jobs []ingest.Job
	for mon := 1; mon <= 4; mon++ {
		// One credential a month: a broken one would skip the others.
		cred := sushi.Credential{ID: fmt.Sprintf("c%d", mon), Platform: "echo", Library: "2030100", BaseURL: srv.URL, Release: "5.1",
			CustomerID: "c1", RequestorID: echoRID, APIKey: echoKey}
		m := bibstat.Month{Year: 2025, Mon: time.Month(mon)}
		jobs = append(jobs, ingest.Job{Unit: bibstat.Unit{Platform: cred.Platform, Credential: cred.ID, Report: "pr", Month: m}, Cred: cred})
	}
	if _, err := h.Run(context.Background(), jobs); err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := led.Sync(); err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"ledger": string(journal), "logs": logs.String()}
	keys, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	rawWithSecret := 0
	for _, k := range keys {
		b, err := store.ReadAll(context.Background(), st, k, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(k, bibstat.SidecarSuffix) {
			texts["sidecar "+k] = string(b)
		} else if leaks(string(b)) != "" {
			rawWithSecret++
		}
	}
	if len(texts) < 4 {
		t.Fatalf("only %d texts (keys %v); want the ledger, the logs and sidecars", len(texts), keys)
	}
	for name, s := range texts {
		if form := leaks(s); form != "" {
			t.Errorf("%s holds the secret form %q:\n%s", name, form, s)
		}
	}
	if rawWithSecret == 0 {
		t.Errorf("no raw body kept the echoed secrets; the archive must stay byte-exact")
	}
	if !strings.Contains(string(journal), "REDACTED") {
		t.Errorf("the ledger shows no redaction; did the vendor echo anything?\n%s", journal)
	}
}

// leaks is the first form of a secret found in s.
func leaks(s string) string {
	for _, sec := range []string{echoKey, echoRID} {
		for _, f := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), strings.ToLower(url.QueryEscape(sec)),
			strings.ToLower(url.PathEscape(sec))} {
			if strings.Contains(s, f) {
				return f
			}
		}
	}
	return ""
}

// TestFingerprintIsKeyed: a credential's fingerprint in the ledger is an
// HMAC under a key beside the journal (0600, made once, kept), so two
// ledgers give two fingerprints and a copied journal alone tests no key.
func TestFingerprintIsKeyed(t *testing.T) {
	cred := sushi.Credential{ID: "c1", Platform: "p", BaseURL: "https://vendor.example", Release: "5.1",
		CustomerID: "c1", RequestorID: echoRID, APIKey: echoKey}
	open := func(dir string) *ledger.Ledger {
		l, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := t.TempDir(), t.TempDir()
	fa := ingest.Fingerprint(open(a), cred)
	if again := ingest.Fingerprint(open(a), cred); again != fa {
		t.Errorf("reopened ledger: fingerprint %s, was %s", again, fa)
	}
	if fb := ingest.Fingerprint(open(b), cred); fb == fa {
		t.Errorf("two ledgers share the fingerprint %s: not keyed", fa)
	}
	changed := cred
	changed.APIKey += "x"
	if ingest.Fingerprint(open(a), changed) == fa {
		t.Errorf("a changed api_key keeps the fingerprint")
	}
	fi, err := os.Stat(filepath.Join(a, "ledger.jsonl.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}
