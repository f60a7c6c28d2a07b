package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/cli"
)

func TestPlatformsImportRegistry(t *testing.T) {
	fixtures := "../../testdata/registry"
	srv := httptest.NewServer(http.FileServer(http.Dir(fixtures)))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "bibstat.yaml")
	orig, err := os.ReadFile(filepath.Join(fixtures, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		want  string // in the output or the error
		usage bool
		wrote bool
	}{
		{name: "url, dry run", args: []string{srv.URL + "/platform_detail.json"}, want: "unchanged leksikon: Leksikon"},
		{name: "file, dry run", args: []string{filepath.Join(fixtures, "service_alone.json")}, want: "new stats-filmstrom-example"},
		{name: "write", args: []string{"--write", filepath.Join(fixtures, "service_alone.json")}, want: "Wrote " + cfg, wrote: true},
		{name: "write again", args: []string{"--write", filepath.Join(fixtures, "service_alone.json")}, want: "Nothing to write"},
		{name: "missing", args: []string{srv.URL + "/none.json"}, want: "fetch " + srv.URL + "/none.json: HTTP 404"},
		{name: "not registry", args: []string{filepath.Join(fixtures, "not_registry.json")}, want: "not a COUNTER Registry record"},
		{name: "no argument", args: nil, usage: true},
		{name: "no subcommand", args: []string{"--write"}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(cfg)
			var out bytes.Buffer
			args := append([]string{"platforms", "import-registry", "--config", cfg}, tt.args...)
			if tt.name == "no subcommand" {
				args = append([]string{"platforms"}, tt.args...)
			}
			err := run(context.Background(), args, &out, &out)
			var usage *cli.UsageError
			if errors.As(err, &usage) != tt.usage {
				t.Fatalf("err %v, usage error wanted: %v", err, tt.usage)
			}
			if got := out.String() + errString(err); !strings.Contains(got, tt.want) {
				t.Errorf("output %q lacks %q", got, tt.want)
			}
			after, _ := os.ReadFile(cfg)
			if bytes.Equal(before, after) == tt.wrote {
				t.Errorf("config written: %v, want %v", !bytes.Equal(before, after), tt.wrote)
			}
		})
	}
	after, _ := os.ReadFile(cfg)
	if !bytes.HasPrefix(after, orig[:bytes.Index(orig, []byte("\n# Libraries"))]) || !bytes.Contains(after, []byte("  - id: stats-filmstrom-example\n")) {
		t.Errorf("written config:\n%s", after)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
