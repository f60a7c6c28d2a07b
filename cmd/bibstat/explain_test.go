package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/transform"
)

// explainWarehouse is a warehouse where one library's January on film came
// twice: an upload and the same file under a second vendor id.
func explainWarehouse(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	wh, err := transform.Open(ctx, path, transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, q := range []string{
		`INSERT INTO loaded_units VALUES
			('raw/upload/filmco/pr/2030100/2024-01/@5', 'raw/upload/filmco/pr/2030100/2024-01/a.tsv', '', '2030100', 'film', 'pr', DATE '2024-01-01', 'ok', 1, '5', 'upload/filmco', TIMESTAMP '2024-02-01 10:00:00'),
			('raw/upload/filmco-no/pr/2030100/2024-01/@5', 'raw/upload/filmco-no/pr/2030100/2024-01/b.tsv', '', '2030100', 'film', 'pr', DATE '2024-01-01', 'ok', 1, '5', 'upload/filmco-no', TIMESTAMP '2024-02-02 10:00:00')`,
		`INSERT INTO facts_loose (unit_key, library_id, release, report_id, platform, metric_type, data_type, month, count, institution_id, customer_id) VALUES
			('raw/upload/filmco/pr/2030100/2024-01/@5', '2030100', '5', 'PR', 'film', 'Total_Item_Requests', 'Multimedia', DATE '2024-01-01', 40, 'ISIL:NO-2030100', ''),
			('raw/upload/filmco-no/pr/2030100/2024-01/@5', '2030100', '5', 'PR', 'film', 'Total_Item_Requests', 'Multimedia', DATE '2024-01-01', 40, 'ISIL:NO-2030100', '')`,
		`INSERT INTO dirty_months VALUES (DATE '2024-01-01')`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := wh.PutLibraries(ctx, []transform.Library{{ID: "2030100", Name: "Oslo", Municipality: "0301"}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExplain(t *testing.T) {
	path := explainWarehouse(t)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"explain", "--warehouse", path, "2030100/film/2024-01"}, &out, &errb); err != nil {
		t.Fatalf("explain: %v\n%s", err, errb.String())
	}
	for _, want := range []string{
		"Total_Item_Requests", " 40 ", "from PR release 5 Multimedia",
		"counted   PR release 5, upload/filmco-no", "set aside PR release 5, upload/filmco,",
		"why: set aside: an older copy of the same usage; the newest, raw/upload/filmco-no/pr/2030100/2024-01/b.tsv, counts",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), " 80 ") {
		t.Errorf("explain counts the copy:\n%s", out.String())
	}
}

func TestExplainUsage(t *testing.T) {
	for _, args := range [][]string{{"explain"}, {"explain", "2030100/film"}, {"explain", "2030100/film/2024-13"}, {"explain", "a", "b"}} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		var ue *cli.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestParseCell(t *testing.T) {
	for in, want := range map[string]transform.Cell{
		"2030100/avis/2024-01":                      {Kind: "library", ID: "2030100", Platform: "avis", Month: "2024-01"},
		"pool:p1/film/2024-02":                      {Kind: "pool", ID: "p1", Platform: "film", Month: "2024-02"},
		"unattributed:ISIL:NO-2999999/film/2024-03": {Kind: "unattributed", ID: "ISIL:NO-2999999", Platform: "film", Month: "2024-03"},
	} {
		got, err := transform.ParseCell(in)
		if err != nil || got != want {
			t.Errorf("ParseCell(%q) = %+v, %v, want %+v", in, got, err, want)
		}
	}
}

// TestAccessLogCountsWhereConfigured: logs ingested with ingest-logs and a
// platform whose count_source is access-log: transform loads the login
// usage, and explain shows it counted. The same archive under a config
// that counts the vendor keeps it out of the marts.
func TestAccessLogCountsWhereConfigured(t *testing.T) {
	dir := t.TempDir()
	fixtures := "../../ingest/accesslog/testdata/"
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"ingest-logs", "--logs", fixtures + "logs.yaml", "--source", "ezproxy",
		"--archive", filepath.Join(dir, "archive"), fixtures + "ezproxy.log"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, count := range []string{"access-log", "counter"} {
		cfg := filepath.Join(dir, count+".yaml")
		yaml := "platforms:\n  - id: avisarkiv\n    name: Avisarkivet\n    base_url: https://sushi.avisarkiv.example/sushi\n" +
			"    release: \"5.1\"\n    count_source: " + count + "\n" +
			"store:\n  kind: local\n  dir: archive\nwarehouse:\n  path: " + count + ".duckdb\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"transform", "--config", cfg, "--libraries", "../../testdata/library-register/basebibliotek.xml"},
			{"explain", "--config", cfg, "2030100/avisarkiv/2026-03"},
		} {
			out.Reset()
			if err := run(ctx, args, &out, &errb); err != nil {
				t.Fatalf("%s: %v\n%s", args[0], err, errb.String())
			}
		}
		s := out.String()
		counted := regexp.MustCompile(`(?m)^  Total_Item_Requests +3  from PR release 5.1`).MatchString(s)
		if counted != (count == "access-log") {
			t.Errorf("count_source %s: the login usage counted: %v\n%s", count, counted, s)
		}
		if count == "counter" && !strings.Contains(s, "platform counts the vendor's COUNTER reports; the access log is kept for comparison") {
			t.Errorf("count_source counter: explain does not say why the log is set aside:\n%s", s)
		}
	}
}
