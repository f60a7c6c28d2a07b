package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
