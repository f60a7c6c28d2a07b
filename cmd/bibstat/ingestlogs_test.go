package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
)

func TestIngestLogs(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	fixtures := "../../ingest/accesslog/testdata/"
	originals := filepath.Join(dir, "accesslog-originals")
	if err := os.MkdirAll(originals, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(originals, "20200101T000000Z-0123456789ab-old.log")
	if err := os.WriteFile(old, []byte("kort9 ...\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"ingest-logs", "--logs", fixtures + "logs.yaml", "--source", "ezproxy", "--archive", archive, fixtures + "ezproxy.log"}
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	s := out.String()
	for _, want := range []string{
		"ezproxy.log: lines=12 events=8 robots=1 ignored=1 bad=2",
		"ezproxy.log:11: library is not a library number",
		"unit avisarkiv 2030100 2026-03: Searches_Platform=1 Total_Item_Investigations=4 Unique_Item_Investigations=2 Total_Item_Requests=3 Unique_Item_Requests=2",
		"unit avisarkiv 2180000 2026-03: Total_Item_Investigations=2 Unique_Item_Investigations=1",
		"deleted original " + old,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s+errb.String(), "kort") {
		t.Errorf("the output names a user:\n%s", s)
	}
	st, err := os.Stat(filepath.Join(dir, "accesslog.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key beside the archive, 0600: %v %v", st, err)
	}
	kept, _ := filepath.Glob(filepath.Join(originals, "*-ezproxy.log"))
	if len(kept) != 1 {
		t.Errorf("originals kept: %v", kept)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the expired original is still there: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already ingested") || strings.Contains(out.String(), "unit ") {
		t.Errorf("a second ingest of the same log counts again:\n%s", out.String())
	}
}

// The inbox: a log dropped in <source>/ is read and leaves the inbox, its
// original kept; one in a folder naming no source, and one of which no
// line reads, move to rejected/ with why; the run says so and fails, and
// a second run reads nothing again.
func TestIngestLogsInbox(t *testing.T) {
	dir := t.TempDir()
	fixtures, err := filepath.Abs("../../ingest/accesslog/testdata/")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(fixtures, "ezproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	drop := map[string][]byte{
		"ezproxy/mars.log":  log,
		"nosuch/mars.log":   log,
		"ezproxy/noise.log": []byte("not a log line\nnor this\n"),
	}
	for name, b := range drop {
		p := filepath.Join(dir, "log-inbox", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "bibstat.yaml")
	yaml := "store:\n  kind: local\n  dir: archive\nwarehouse:\n  path: w.duckdb\nledger:\n  path: ledger.jsonl\n" +
		"access_logs:\n  config: " + filepath.Join(fixtures, "logs.yaml") + "\n  inbox: log-inbox\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"ingest-logs", "--config", cfg, "--inbox"}, &out, &errb)
	if !errors.Is(err, errLogsRejected) {
		t.Fatalf("two logs rejected, got %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"mars.log: lines=12 events=8 robots=1 ignored=1 bad=2",
		"unit avisarkiv 2030100 2026-03:",
		`names no source of the access-log file`,
		`no line reads as source "ezproxy": all 2 lines are bad, the first at line 1`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	left := func() (names []string) {
		filepath.WalkDir(filepath.Join(dir, "log-inbox"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(filepath.Join(dir, "log-inbox"), p)
				names = append(names, rel)
			}
			return nil
		})
		return names
	}
	want := []string{"ezproxy/rejected/noise.log", "ezproxy/rejected/noise.log.reason.txt",
		"nosuch/rejected/mars.log", "nosuch/rejected/mars.log.reason.txt"}
	if got := left(); !slices.Equal(got, want) {
		t.Errorf("inbox after the run: %v, want %v", got, want)
	}
	if kept, _ := filepath.Glob(filepath.Join(dir, "accesslog-originals", "*-mars.log")); len(kept) != 1 {
		t.Errorf("originals kept: %v", kept)
	}
	loaded, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	var names []string
	for _, s := range nightlyStages(e, loaded, store.NewMemory(), nil) {
		names = append(names, s.Name)
	}
	if !slices.Contains(names, "access-logs") {
		t.Errorf("the night's stages %v do not read the access-log inbox", names)
	}
	out.Reset()
	if err := run(context.Background(), []string{"ingest-logs", "--config", cfg, "--inbox"}, &out, &errb); err != nil {
		t.Fatalf("a second run with nothing new: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "lines=") || strings.Contains(out.String(), "unit ") {
		t.Errorf("a second run read again:\n%s", out.String())
	}
}
