package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/config"
)

// TestServeRunsTheNightlyPipelineAndTheServer runs serve with --now: the
// nightly pipeline harvests, loads and writes the site while the portal and
// SUSHI server answer; cancelling stops both cleanly.
func TestServeRunsTheNightlyPipelineAndTheServer(t *testing.T) {
	cfgPath, _, _ := harvestWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("server:\n  listen: " + addr + "\n  mappings: \"\"\nwarehouse:\n  path: warehouse.duckdb\n")
	f.Close()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(cfgPath)

	ctx, cancel := context.WithCancel(context.Background())
	e, out := testEnv(t)
	var logged syncBuffer
	e.log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, e, cfgPath, cfg, true) }()

	// The nightly run ends with the report; its run log line says so.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "runs.jsonl"))
		if strings.Contains(string(b), `"kind":"report"`) {
			for _, kind := range []string{"harvest", "transform", "report"} {
				if !strings.Contains(string(b), `"kind":"`+kind+`"`) {
					t.Errorf("run log lacks %s: %s", kind, b)
				}
			}
			if strings.Contains(string(b), `"outcome":"failed"`) {
				t.Errorf("a nightly stage failed: %s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no report run after 60 s; run log %q, output %q", b, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "site", "index.html")); err != nil {
		t.Errorf("the nightly run wrote no site: %v", err)
	}
	for _, path := range []string{"/healthz", "/r51/status"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of cancel")
	}
	if !strings.Contains(out.String(), "serve: stopped") {
		t.Errorf("output: %s", out.String())
	}
	// At info, serve logs its start and each stage's start and end.
	for _, want := range []string{"msg=serving addr=" + addr, `msg="nightly stage starting" stage=harvest`, `msg="nightly stage done" stage=report`} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's and the pipeline's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
