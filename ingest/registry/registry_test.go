package registry

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const dir = "../../testdata/registry"

// fixtureFetch serves the registry links of the fixtures from testdata.
func fixtureFetch(t *testing.T) func(context.Context, string) ([]byte, error) {
	links := map[string]string{
		"https://registry.example/api/v1/sushi-service/0c5e7a10-2222-4aaa-8bbb-000000000005/": "service_r5.json",
		"https://registry.example/api/v1/sushi-service/0c5e7a10-2222-4aaa-8bbb-000000000051/": "service_r51.json",
		"https://registry.example/api/v1/platform/?page=2":                                    "page2.json",
	}
	return func(_ context.Context, u string) ([]byte, error) {
		name, ok := links[u]
		if !ok {
			return nil, fmt.Errorf("fetch %s: HTTP 404 Not Found", u)
		}
		return readFixture(t, name), nil
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is what a test checks of a proposal; Problem and Note are substrings.
type want struct {
	ID, Name, BaseURL, Release, Param string
	Requires                          []string
	Problem, Note                     string
}

func TestImport(t *testing.T) {
	tests := []struct {
		file    string
		offline bool
		want    []want
		warn    string
	}{
		{file: "platforms.json", want: []want{
			{ID: "avisarkivet-nord", Name: "Avisarkivet Nord", BaseURL: "https://sushi.avisarkiv-nord.example/counter", Release: "5.1", Param: "avn",
				Requires: []string{"customer_id", "requestor_id", "api_key", "platform"}, Note: "request volume limits: 1 request per 10 seconds"},
			{ID: "lydbokhylla-aero", Name: "Lydbokhylla Ærø", Problem: "no SUSHI service in the registry record"},
			{ID: "tidsskriftbasen-pluss", Name: "Tidsskriftbasen Pluss", Problem: "0c5e7a10-2222-4aaa-8bbb-000000000099/: HTTP 404"},
			{ID: "gammelbase", Name: "Gammelbase", Problem: `release "4" is not one bibstat harvests`},
		}},
		{file: "platforms.json", offline: true, want: []want{
			{ID: "avisarkivet-nord", Problem: "not read offline"},
			{ID: "lydbokhylla-aero", Problem: "no SUSHI service"},
			{ID: "tidsskriftbasen-pluss", Problem: "not read offline"},
			{ID: "gammelbase", Problem: "not one bibstat harvests"},
		}},
		{file: "platform_detail.json", offline: true, want: []want{
			{ID: "leksikon", Name: "Leksikon", BaseURL: "https://counter.leksikon.example/api/r5", Release: "5",
				Requires: []string{"customer_id", "requestor_id", "api_key", "platform"}, Note: "platform: Send the platform name you were given by support"},
		}},
		{file: "service_r51.json", want: []want{
			{ID: "sushi-avisarkiv-nord-example", Name: "sushi.avisarkiv-nord.example", BaseURL: "https://sushi.avisarkiv-nord.example/counter", Release: "5.1", Param: "avn",
				Requires: []string{"customer_id", "requestor_id", "api_key", "platform"}, Note: "requestor_id: brukernavn fra portalen"},
		}},
		{file: "service_alone.json", want: []want{
			{ID: "stats-filmstrom-example", BaseURL: "https://stats.filmstrom.example/sushi", Release: "5.1",
				Requires: []string{"customer_id"}, Note: "the record does not say whether requestor_id is required"},
		}},
		{file: "page1.json", want: []want{
			{ID: "musikkbasen", Release: "5", BaseURL: "https://sushi.avisarkiv-nord.example/counter"},
			{ID: "musikkbasen-2", Release: "5.1"},
		}},
		{file: "page1.json", offline: true, warn: "more pages, not read", want: []want{
			{ID: "musikkbasen", Problem: "not read offline"},
		}},
		{file: "bad_url.json", want: []want{
			{Problem: "is not an http(s) URL with a host"},
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s offline=%v", tt.file, tt.offline), func(t *testing.T) {
			im := &Importer{Fetch: fixtureFetch(t)}
			if tt.offline {
				im.Fetch = nil
			}
			res, err := im.Import(context.Background(), readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Proposals) != len(tt.want) {
				t.Fatalf("got %d proposals, want %d: %+v", len(res.Proposals), len(tt.want), res.Proposals)
			}
			for i, w := range tt.want {
				checkProposal(t, res.Proposals[i], w)
			}
			if got := strings.Join(res.Warnings, "\n"); !strings.Contains(got, tt.warn) || (tt.warn == "") != (got == "") {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
		})
	}
}

func checkProposal(t *testing.T, p Proposal, w want) {
	t.Helper()
	check := func(field, got, want string) {
		if want != "" && got != want {
			t.Errorf("%s: %s = %q, want %q", p.Platform.ID, field, got, want)
		}
	}
	check("id", p.Platform.ID, w.ID)
	check("name", p.Platform.Name, w.Name)
	check("base_url", p.Platform.BaseURL, w.BaseURL)
	check("release", p.Platform.Release, w.Release)
	check("platform_param", p.Platform.PlatformParam, w.Param)
	if w.Requires != nil && !slices.Equal(p.Requires, w.Requires) {
		t.Errorf("%s: requires %v, want %v", p.Platform.ID, p.Requires, w.Requires)
	}
	if (w.Problem == "") != p.OK() || !strings.Contains(p.Problem, w.Problem) {
		t.Errorf("%s: problem %q, want %q", p.Platform.ID, p.Problem, w.Problem)
	}
	if w.Note != "" && !slices.Contains(p.Notes, w.Note) {
		t.Errorf("%s: notes %q lack %q", p.Platform.ID, p.Notes, w.Note)
	}
}

func TestImportRejects(t *testing.T) {
	for _, in := range []string{"not_registry.json", "config.yaml"} {
		_, err := (&Importer{}).Import(context.Background(), readFixture(t, in))
		if !errors.Is(err, ErrNotRegistry) {
			t.Errorf("%s: err %v, want ErrNotRegistry", in, err)
		}
	}
	for _, in := range []string{"", "[", "<html>", "42", `[{"x":1}]`, `{"results": 3}`, `{"name": 7}`, `[[]]`} {
		if _, err := (&Importer{}).Import(context.Background(), []byte(in)); !errors.Is(err, ErrNotRegistry) {
			t.Errorf("%q: err %v, want ErrNotRegistry", in, err)
		}
	}
}

// TestDiffApply imports the fixtures against a config, writes them in, and
// checks the file against its golden copy, then that a second import finds
// nothing new or changed.
func TestDiffApply(t *testing.T) {
	var ps []Proposal
	im := &Importer{Fetch: fixtureFetch(t)}
	for _, f := range []string{"platforms.json", "platform_detail.json", "service_alone.json"} {
		res, err := im.Import(context.Background(), readFixture(t, f))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, res.Proposals...)
	}
	src := readFixture(t, "config.yaml")
	cfg := parseConfig(t, src)
	entries := Diff(ps, cfg.Platforms)
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s %s %v", e.Status, e.Platform.ID, e.Changes))
	}
	wantDiff := []string{
		"changed avisnord [{release 5 5.1} {platform_param  avn}]",
		"skipped lydbokhylla-aero []",
		"skipped tidsskriftbasen-pluss []",
		"skipped gammelbase []",
		"unchanged leksikon []",
		"new stats-filmstrom-example []",
	}
	if !slices.Equal(got, wantDiff) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDiff, "\n"))
	}
	out, err := Apply(src, entries)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "config.golden.yaml", out)
	for _, e := range Diff(ps, parseConfig(t, out).Platforms) {
		if e.Status == New || e.Status == Changed {
			t.Errorf("after Apply, %s is still %s: %v", e.Platform.ID, e.Status, e.Changes)
		}
	}
}

func parseConfig(t *testing.T, src []byte) config.Config {
	t.Helper()
	cfg, err := config.Parse(bytes.NewReader(src))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", name, got)
	}
}
