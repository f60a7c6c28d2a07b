package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestVersion: --version prints BibStat's version and the linked DuckDB's.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &errb); err != nil {
		t.Fatalf("--version: %v\n%s", err, errb.String())
	}
	// A test binary has no module version: "devel".
	if !regexp.MustCompile(`(?m)^bibstat devel\nduckdb v\d+\.\d+\.\d+`).MatchString(out.String()) {
		t.Errorf("--version printed %q", out.String())
	}
}
