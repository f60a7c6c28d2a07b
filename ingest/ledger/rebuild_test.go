package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/demo"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// harvested harvests the demo world with every kind of vendor answer the
// ledger keeps a state for, twice (the second forced, so units carry
// attempts), into a memory store and a ledger in a temporary folder.
func harvested(t *testing.T) (st *store.Memory, path string, jobs []ingest.Job, pol ingest.Policy) {
	t.Helper()
	world, err := sushisim.Demo()
	if err != nil {
		t.Fatal(err)
	}
	m := func(mon time.Month) bibstat.Month { return bibstat.Month{Year: 2025, Mon: mon} }
	world.Faults = []sushisim.Fault{
		{Platform: "avisarkiv", Library: "2080600", Kind: sushisim.FaultNotReady},
		{Platform: "avisarkiv", Month: m(2), Kind: sushisim.FaultServerError, Times: 1},
		{Platform: "avisarkiv", Month: m(3), Kind: sushisim.FaultHTML},
		{Platform: "leksikon", Library: "3060201", Kind: sushisim.FaultBadKey},
		{Platform: "leksikon", Month: m(5), Kind: sushisim.FaultNoUsage},
		{Platform: "leksikon", Month: m(6), Kind: sushisim.FaultPartial},
		{Platform: "leksikon", Library: "2080600", Month: m(7), Kind: sushisim.FaultQueued},
		{Platform: "leksikon", Month: m(7), Kind: sushisim.FaultQueued, Times: 2},
		{Platform: "filmtjeneste", Month: m(8), Kind: sushisim.FaultUnsupported},
		{Platform: "filmtjeneste", Month: m(9), Kind: sushisim.FaultTruncated, Times: 1},
		{Platform: "filmtjeneste", Month: m(10), Kind: sushisim.FaultWrongMonths},
	}
	bases, stop, err := demo.ServeVendors(&world, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	jobs = demo.Jobs(&world, bases)
	pol = ingest.DefaultPolicy
	pol.Jitter = 0 // next attempts recomputed by the rebuild are then the harvest's to the nanosecond
	pol.QueuedDelay = time.Millisecond

	st = store.NewMemory()
	path = filepath.Join(t.TempDir(), "ledger.jsonl")
	for _, force := range []bool{false, true} {
		led, err := ledger.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h := &ingest.Harvester{Store: st, Ledger: led, Fetcher: &sushi.Client{}, Policy: pol, Force: force}
		if _, err := h.Run(context.Background(), jobs); err != nil {
			t.Fatal(err)
		}
		if err := led.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return st, path, jobs, pol
}

// rebuildOptions are what a command gives Rebuild: the credentials of the
// config (here the jobs') and the harvest's policy.
func rebuildOptions(jobs []ingest.Job, pol ingest.Policy) ledger.RebuildOptions {
	return ledger.RebuildOptions{
		Fingerprint: func(l *ledger.Ledger, platform, credential string) (string, bool) {
			for _, j := range jobs {
				if j.Cred.Platform == platform && j.Cred.ID == credential {
					return ingest.Fingerprint(l, j.Cred), true
				}
			}
			return "", false
		},
		NextAttempt: pol.NextAttempt,
	}
}

func TestRebuildEqualsHarvestedLedger(t *testing.T) {
	ctx := context.Background()
	st, path, jobs, pol := harvested(t)
	want := askedEntries(t, path)
	states := map[bibstat.State]int{}
	for _, e := range want {
		states[e.State]++
	}
	for _, s := range []bibstat.State{bibstat.StateOK, bibstat.StateZero, bibstat.StateNotReady, bibstat.StateFailed,
		bibstat.StatePartial, bibstat.StateQueued, bibstat.StateUnsupported, bibstat.StateCredentialsBroken} {
		if states[s] == 0 {
			t.Errorf("the harvest left no unit %s (states %v): the test covers less than it says", s, states)
		}
	}

	if err := os.Remove(path); err != nil { // the key file stays, as it would beside a lost journal
		t.Fatal(err)
	}
	n, err := ledger.Rebuild(ctx, st, path, rebuildOptions(jobs, pol))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) || len(got) != len(want) {
		t.Fatalf("rebuilt %d units (read back %d), the harvest wrote %d", n, len(got), len(want))
	}
	for i := range want {
		if d := diffEntry(got[i], want[i]); d != "" {
			t.Errorf("unit %s: %s", want[i].Unit(), d)
		}
	}
}

// askedEntries reads the ledger the harvest wrote, less the units it never
// asked for: the other months of a report the vendor said it does not
// offer are recorded unsupported without a request, so no sidecar holds
// them, and the next harvest records them again from the one that was
// asked. Anything else without a response is a unit the rebuild would
// lose.
func askedEntries(t *testing.T, path string) []ledger.Entry {
	t.Helper()
	all, err := ledger.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var asked []ledger.Entry
	for _, e := range all {
		switch {
		case e.RawKey != "":
			asked = append(asked, e)
		case e.State != bibstat.StateUnsupported:
			t.Fatalf("unit %s was never asked but is %s", e.Unit(), e.State)
		}
	}
	return asked
}

// diffEntry names the first field in which a rebuilt entry differs from
// the harvest's; times are compared as instants (the harvest writes its
// clock's zone, the sidecar UTC).
func diffEntry(got, want ledger.Entry) string {
	if !got.UpdatedAt.Equal(want.UpdatedAt) || !got.NextAttempt.Equal(want.NextAttempt) {
		return "times: rebuilt " + got.UpdatedAt.String() + " next " + got.NextAttempt.String() +
			", harvested " + want.UpdatedAt.String() + " next " + want.NextAttempt.String()
	}
	got.UpdatedAt, got.NextAttempt = want.UpdatedAt, want.NextAttempt
	if got != want {
		return "rebuilt " + jsonOf(got) + "\n    harvested " + jsonOf(want)
	}
	return ""
}

func TestRebuildIfMissing(t *testing.T) {
	ctx := context.Background()
	st, path, jobs, pol := harvested(t)
	o := rebuildOptions(jobs, pol)
	want := askedEntries(t, path)

	if rebuilt, _, err := ledger.RebuildIfMissing(ctx, st, path, o); err != nil || rebuilt {
		t.Fatalf("present ledger: rebuilt %v, %v; want it left alone", rebuilt, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rebuilt, n, err := ledger.RebuildIfMissing(ctx, st, path, o)
	if err != nil || !rebuilt || n != len(want) {
		t.Fatalf("missing ledger: rebuilt %v, %d units, %v; want %d units", rebuilt, n, err, len(want))
	}

	fresh := filepath.Join(t.TempDir(), "ledger.jsonl")
	if rebuilt, _, err := ledger.RebuildIfMissing(ctx, store.NewMemory(), fresh, o); err != nil || rebuilt {
		t.Fatalf("empty store: rebuilt %v, %v; want nothing", rebuilt, err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("empty store: a ledger file appeared (%v)", err)
	}
}

// TestRebuildRefusesAStrangeSidecar: a sidecar whose unit is not its
// key's folder is an archive to look at, not one to guess from.
func TestRebuildRefusesAStrangeSidecar(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	u := bibstat.Unit{Platform: "p", Credential: "c", Report: "pr", Month: bibstat.Month{Year: 2025, Mon: 1}}
	key := u.RawKey(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), "json")
	side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: "p", Credential: "other", Report: "pr", Month: "2025-01", State: bibstat.StateOK}
	b, err := bibstat.EncodeSidecar(side)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, bibstat.SidecarKey(key), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	if _, err := ledger.Rebuild(ctx, st, path, ledger.RebuildOptions{}); err == nil {
		t.Fatal("rebuilt from a sidecar naming another unit than its key")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed rebuild left a ledger (%v)", err)
	}
}

func jsonOf(e ledger.Entry) string {
	b, _ := json.Marshal(e)
	return string(b)
}
