package server

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHealthz: /healthz is 200 only with pages in the site and a last
// night whose stages all succeeded, and lists that night's stages.
func TestHealthz(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2025, 3, 2, 2, 0, 0, 0, time.UTC)
	night := func(outcomes ...string) []Run {
		var runs []Run
		for i, kind := range []string{"harvest", "transform", "report"} {
			runs = append(runs, Run{Kind: kind, Start: at.Add(time.Duration(i) * time.Minute), Outcome: outcomes[i]})
		}
		return runs
	}
	for _, tc := range []struct {
		name      string
		pages     bool
		runs      []Run
		want      int
		wantStage string // the last run's stage the answer must list
	}{
		{name: "fresh install, no pages", want: http.StatusServiceUnavailable},
		{name: "pages, no run yet", pages: true, want: http.StatusOK},
		{name: "a good night", pages: true, runs: night("ok", "ok", "ok"), want: http.StatusOK, wantStage: "report"},
		{name: "the harvest failed", pages: true, runs: night("failed", "ok", "ok"), want: http.StatusServiceUnavailable, wantStage: "harvest"},
		{name: "a failed night, then a good one", pages: true, runs: append(night("failed", "failed", "ok"), night("ok", "ok", "ok")...),
			want: http.StatusOK, wantStage: "transform"},
		{name: "a good night, then no pages", runs: night("ok", "ok", "ok"), want: http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			site := filepath.Join(dir, "site")
			if err := os.MkdirAll(site, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.pages {
				if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<html>"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			runs := &RunLog{Path: filepath.Join(dir, "runs.jsonl")}
			for _, r := range tc.runs {
				if err := runs.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			users, err := OpenUsers(filepath.Join(dir, "users.json"))
			if err != nil {
				t.Fatal(err)
			}
			srv, err := New(Config{DB: db, SiteDir: site, Users: users, RunLog: runs})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			var h health
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if len(tc.runs) > 0 && len(h.LastRun) != 3 {
				t.Errorf("last run %+v, want the last night's 3 stages", h.LastRun)
			}
			if tc.wantStage != "" && !strings.Contains(rec.Body.String(), `"stage":"`+tc.wantStage+`"`) {
				t.Errorf("body lacks stage %s: %s", tc.wantStage, rec.Body)
			}
			if (rec.Code == http.StatusOK) != (len(h.Problems) == 0) {
				t.Errorf("status %d with problems %q", rec.Code, h.Problems)
			}
		})
	}
}
