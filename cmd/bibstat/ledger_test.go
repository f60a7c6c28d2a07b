package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// TestLedgerRebuiltNotForgotten: a lost ledger comes back from the store,
// by 'ledger rebuild' or on its own in status and harvest, with the units
// the harvest wrote, so a rerun fetches nothing and retries no broken
// credential.
func TestLedgerRebuiltNotForgotten(t *testing.T) {
	cfg, _, _ := harvestWorld(t,
		sushisim.Fault{Platform: "avis", Library: "2030100", Month: bibstat.Month{Year: 2025, Mon: 4}, Kind: sushisim.FaultNotReady},
		sushisim.Fault{Platform: "leksikon", Library: "2120100", Kind: sushisim.FaultBadKey})
	if _, _, err := runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-06"); err == nil {
		t.Fatal("harvest with a broken credential: exit 0")
	}
	path := filepath.Join(filepath.Dir(cfg), "ledger.jsonl")
	want, err := ledger.ReadAll(path)
	if err != nil || len(want) == 0 {
		t.Fatalf("harvested ledger: %d units, %v", len(want), err)
	}
	same := func(how string) {
		t.Helper()
		got, err := ledger.ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d units, the harvest wrote %d", how, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.Unit() != w.Unit() || g.State != w.State || g.Attempts != w.Attempts || g.RawKey != w.RawKey ||
				g.CredFP != w.CredFP || g.Code != w.Code || !g.UpdatedAt.Equal(w.UpdatedAt) {
				t.Errorf("%s: unit %s: got %+v\nwant %+v", how, w.Unit(), g, w)
			}
		}
	}

	out, _, err := runHarvestCmd(t, "ledger", "rebuild", "--config", cfg)
	if err != nil || !strings.Contains(out, fmt.Sprintf("rebuilt: %d units", len(want))) {
		t.Fatalf("ledger rebuild: %v\n%s", err, out)
	}
	same("ledger rebuild")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	out, _, err = runHarvestCmd(t, "status", "--config", cfg, "--to", "2025-06")
	if err != nil || !strings.Contains(out, "CCCCCC") {
		t.Fatalf("status over a lost ledger: %v\n%s", err, out)
	}
	same("status over a lost ledger")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runHarvestCmd(t, "harvest", "--once", "--config", cfg, "--to", "2025-06", "--from", "2025-01")
	if !strings.Contains(out, "fetched 0 units") {
		t.Errorf("harvest over a lost ledger fetched again:\n%s", out)
	}
	same("harvest over a lost ledger")

	if _, _, err := runHarvestCmd(t, "ledger", "--config", cfg); err == nil {
		t.Error("ledger without rebuild: no usage error")
	}
}
