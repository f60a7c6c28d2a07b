package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtures = "../../testdata/counter"

// TestInspectGolden runs `bibstat inspect` over the project's own COUNTER
// fixtures and compares the output with testdata/counter/inspect.golden.
func TestInspectGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden") {
			inputs = append(inputs, f)
		}
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"inspect"}, inputs...), &out, &errb)
	// Three fixtures are deliberately not COUNTER: exit status 1, silently.
	if got := exitCode(err, &errb); got != 1 || errb.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 1 and nothing", got, errb.String())
	}
	golden := filepath.Join(fixtures, "inspect.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("inspect output differs from %s (run with -update after checking):\n%s", golden, out.String())
	}
}

func TestInspectKeyOrderAndExit(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"inspect", filepath.Join(fixtures, "r51_pr.json")}, &out, &errb)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	dec := json.NewDecoder(&out)
	tok, _ := dec.Token()
	if tok != json.Delim('{') {
		t.Fatalf("not an object: %v", tok)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	// New keys go at the end: scripts read the first ones by position.
	want := "file ok release report_id begin end months totals exceptions warnings empty skipped"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("keys = %s\nwant   %s", got, want)
	}
}

func TestInspectUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"inspect"}, &out, &errb)
	if got := exitCode(err, &errb); got != 2 {
		t.Errorf("exit %d, want 2 for no files", got)
	}
}

func TestBenchUnknownName(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "nope"}, &out, &errb)
	if got := exitCode(err, &errb); got != 2 || !strings.Contains(errb.String(), "parse") {
		t.Errorf("exit %d, stderr %q; want 2 listing the benchmarks", got, errb.String())
	}
}

func TestBenchParseSmall(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"bench", "parse", "--rows", "2000", "--dir", t.TempDir()}, &out, &errb); err != nil {
		t.Fatalf("bench parse: %v (%s)", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], "rows=24000") || !strings.HasPrefix(lines[len(lines)-1], "parse_vs_duckdb_ratio=") {
		t.Errorf("output:\n%s", out.String())
	}
}
