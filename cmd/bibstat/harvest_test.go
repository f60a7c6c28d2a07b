package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/status"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/nightly"
	"github.com/bibliotek24/bibstat/server"
)

// harvestWorld starts two simulated platforms and writes a config for them
// whose secrets are env references, set for the test.
func harvestWorld(t *testing.T, faults ...sushisim.Fault) (cfgPath string, world *sushisim.Config, secrets []string) {
	t.Helper()
	world = &sushisim.Config{
		Seed: 11,
		Platforms: []sushisim.Platform{
			{ID: "avis", Name: "Avis", DataType: "Newspaper_or_Newsletter", Scale: 40},
			{ID: "leksikon", Name: "Leksikon", DataType: "Reference_Work", Scale: 20},
		},
		Libraries: []sushisim.Library{
			{ID: "2030100", Name: "Oslo", Municipality: "0301", Population: 70000},
			{ID: "2120100", Name: "Bergen", Municipality: "4601", Population: 30000},
		},
		First: bibstat.Month{Year: 2025, Mon: 1}, Last: bibstat.Month{Year: 2025, Mon: 12},
		Faults: faults,
	}
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("platforms:\n")
	for i, p := range world.Platforms {
		srv := httptest.NewServer(world.Handler(p.ID))
		t.Cleanup(srv.Close)
		rel := "5.1"
		if i == 1 {
			rel = "5" // one R5 platform
		}
		env := "TEST_CONSORTIUM_" + strings.ToUpper(p.ID)
		t.Setenv(env, world.ConsortiumKey(p.ID))
		secrets = append(secrets, world.ConsortiumKey(p.ID))
		fmt.Fprintf(&b, "  - id: %s\n    name: %s\n    base_url: %s\n    release: %q\n    spacing: 1ms\n    consortium:\n      customer_id: %s\n      api_key: env:%s\n",
			p.ID, p.Name, srv.URL, rel, sushisim.ConsortiumCustomerID, env)
	}
	b.WriteString("libraries:\n")
	for _, l := range world.Libraries {
		fmt.Fprintf(&b, "  - bibnr: %q\n    name: %s\n    municipality: %q\n", l.ID, l.Name, l.Municipality)
	}
	b.WriteString("credentials:\n")
	for _, p := range world.Platforms {
		for _, l := range world.Libraries {
			env := fmt.Sprintf("TEST_KEY_%s_%s", strings.ToUpper(p.ID), l.ID)
			key := world.APIKey(p.ID, l.ID)
			t.Setenv(env, key)
			secrets = append(secrets, key)
			fmt.Fprintf(&b, "  - platform: %s\n    library: %q\n    customer_id: %s\n    api_key: env:%s\n", p.ID, l.ID, world.CustomerID(l.ID), env)
		}
	}
	b.WriteString("schedule:\n  start: \"2025-01\"\nstore:\n  kind: local\n  dir: archive\nledger:\n  path: ledger.jsonl\nharvest:\n  spacing: 1ms\n  timeout: 5s\n")
	cfgPath = filepath.Join(dir, "bibstat.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, world, secrets
}

func runHarvestCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestHarvestOnceStatusAndResume(t *testing.T) {
	cfg, _, secrets := harvestWorld(t,
		sushisim.Fault{Platform: "avis", Library: "2120100", Month: bibstat.Month{Year: 2025, Mon: 3}, Kind: sushisim.FaultHTML},
		sushisim.Fault{Platform: "leksikon", Library: "2120100", Kind: sushisim.FaultBadKey})
	out, errs, err := runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-06", "--progress", "log")
	var se silentError
	if !errors.As(err, &se) || se.code != 3 {
		t.Fatalf("harvest: err %v (want exit 3 for failures)\n%s\n%s", err, out, errs)
	}
	if !strings.Contains(out, "ok=17") || !strings.Contains(out, "credentials_broken=1") || !strings.Contains(out, "failed=1") {
		t.Errorf("summary:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out+errs, s) {
			t.Fatalf("a secret was printed")
		}
	}

	// Rerun: nothing already ok is fetched again, the broken credential is not retried.
	out, _, _ = runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-06", "--from", "2025-01")
	if !strings.Contains(out, "fetched 0 units") {
		t.Errorf("rerun fetched something:\n%s", out)
	}

	out, _, err = runHarvestCmd(t, "status", "--config", cfg, "--to", "2025-06")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2120100  avis", "..F...", "CCCCCC", "credentials_broken", "HTML"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runHarvestCmd(t, "status", "--config", cfg, "--json", "--to", "2025-06")
	if err != nil {
		t.Fatal(err)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if rep.Totals[bibstat.StateOK] != 17 || rep.Totals[bibstat.StateFailed] != 1 || rep.Missing != 0 || rep.Blocked != 5 || len(rep.Cells) != 24 {
		t.Errorf("status json totals %v missing %d cells %d", rep.Totals, rep.Missing, len(rep.Cells))
	}
	// Nothing secret in the archive or the ledger.
	root := filepath.Dir(cfg)
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || strings.HasSuffix(p, ".yaml") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret", p)
			}
		}
		return nil
	})
}

func TestHarvestUsage(t *testing.T) {
	cfg, _, _ := harvestWorld(t)
	for _, args := range [][]string{
		{"harvest"},
		{"harvest", "--once", "--config", cfg, "--from", "2025-13"},
		{"harvest", "--once", "--config", cfg, "--platform", "nope"},
		{"credentials", "discover"},
	} {
		if _, _, err := runHarvestCmd(t, args...); exitCode(err, &bytes.Buffer{}) != 2 {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
}

func TestCredentialsDiscover(t *testing.T) {
	cfg, world, secrets := harvestWorld(t)
	for _, p := range []string{"avis", "leksikon"} {
		out, _, err := runHarvestCmd(t, "credentials", "discover", "--config", cfg, "--platform", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", out)
		for _, l := range world.Libraries {
			if !strings.Contains(out, fmt.Sprintf("library: %q", string(l.ID))) || !strings.Contains(out, "customer_id: "+world.CustomerID(l.ID)) {
				t.Errorf("%s: no entry for %s:\n%s", p, l.ID, out)
			}
		}
		if !strings.Contains(out, "api_key: env:TEST_CONSORTIUM_") {
			t.Errorf("api_key not by reference:\n%s", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("discover printed a secret")
			}
		}
	}
}

func TestHarvestStoreDown(t *testing.T) {
	cfg, _, _ := harvestWorld(t)
	// The archive directory is a file: every Put fails.
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "archive"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-02")
	if err == nil {
		t.Fatalf("want an error; got\n%s", out)
	}
	_ = http.StatusOK
}

// TestHarvestUnresolvedSecrets: a harvest whose credentials' secrets cannot
// be resolved ran nothing, and says so: exit 3 with the count of units and
// the reason, and a failed harvest stage in the nightly run log.
func TestHarvestUnresolvedSecrets(t *testing.T) {
	cfgPath, world, _ := harvestWorld(t)
	for _, p := range world.Platforms {
		for _, l := range world.Libraries {
			t.Setenv(fmt.Sprintf("TEST_KEY_%s_%s", strings.ToUpper(p.ID), l.ID), "")
		}
	}
	out, errs, err := runHarvestCmd(t, "harvest", "--once", "--config", cfgPath, "--from", "2025-01", "--to", "2025-06")
	var se silentError
	if !errors.As(err, &se) || se.code != 3 {
		t.Fatalf("harvest: err %v, want exit 3\n%s\n%s", err, out, errs)
	}
	// 2 platforms × 2 libraries × 6 months × the one report (pr).
	if want := "24 units of 4 credentials could not run"; !strings.Contains(errs, want) || !strings.Contains(errs, "is not set") {
		t.Errorf("stderr does not say %q and why:\n%s", want, errs)
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := testEnv(t)
	st, err := openStore(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	runs := &server.RunLog{Path: filepath.Join(t.TempDir(), "runs.jsonl")}
	p := &nightly.Pipeline{Runs: runs, Stages: func() []nightly.Stage { return nightlyStages(e, cfg, st, nil)[:1] }}
	if err := p.Run(context.Background(), time.Date(2025, 7, 2, 2, 0, 0, 0, time.UTC)); err == nil {
		t.Error("the nightly harvest stage succeeded with no credential resolved")
	}
	last, err := runs.Last(1)
	if err != nil || len(last) != 1 {
		t.Fatalf("run log: %v %v", last, err)
	}
	if last[0].Kind != "harvest" || last[0].Outcome != "failed" || !strings.Contains(last[0].Detail, "could not run") {
		t.Errorf("run log says %+v, want the harvest failed with why", last[0])
	}
}
