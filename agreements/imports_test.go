package agreements

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// agreementTables are every table the registry derives from its imports.
var agreementTables = []string{"agreements", "agreement_participants", "agreement_history", "agreement_imports"}

// tableSums is a checksum of every agreement table of w, rows in order.
func tableSums(t *testing.T, w *Warehouse) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tb := range agreementTables {
		var s string
		if err := w.DB.QueryRow(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' ORDER BY rowid)), '') FROM ` + tb + ` t`).Scan(&s); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		out[tb] = s
	}
	return out
}

func record(t *testing.T, w *Warehouse, st store.Store, file string, day int) (ImportRecord, bool) {
	t.Helper()
	ctx := context.Background()
	k, err := w.Known(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, err := Parse("w.yaml", strings.NewReader(file), k)
	if err != nil {
		t.Fatal(err)
	}
	rec, stored, err := w.Record(ctx, st, as, []byte(file), "w.yaml", "kari", time.Date(2026, 1, day, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return rec, stored
}

// TestRestoreReplaysImports: a new warehouse restored from the store's
// imports has every agreement table equal to the one the imports built.
func TestRestoreReplaysImports(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	w := testWarehouse(t)
	rec, stored := record(t, w, st, whFile, 1)
	if !stored || rec.Key != "register/agreements/20260101T090000.000000000Z-"+SHA256([]byte(whFile))[:12]+".yaml" {
		t.Fatalf("first import: %+v stored %v", rec, stored)
	}
	if _, stored := record(t, w, st, whFile, 2); stored {
		t.Error("the same bytes again were stored")
	}
	changed := strings.Replace(whFile, "price_nok: 90000", "price_nok: 96000", 1)
	record(t, w, st, changed, 3)
	record(t, w, st, strings.ReplaceAll(whFile, "p-2025", "p-2026"), 4)

	b, err := store.ReadAll(ctx, st, rec.Key, 1<<20)
	if err != nil || !bytes.Equal(b, []byte(whFile)) {
		t.Errorf("stored file %q, %v; want the bytes imported", b, err)
	}
	want := tableSums(t, w)
	if !strings.HasPrefix(want["agreement_imports"], "3:") || !strings.HasPrefix(want["agreement_history"], "4:") {
		t.Fatalf("imports built %v", want)
	}

	fresh := testWarehouse(t)
	if n, err := fresh.Restore(ctx, st); err != nil || n != 3 {
		t.Fatalf("restore: %d imports, %v", n, err)
	}
	if got := tableSums(t, fresh); !equalMaps(got, want) {
		t.Errorf("restored tables\n%v\nwant\n%v", got, want)
	}
	if n, err := fresh.Restore(ctx, st); err != nil || n != 0 {
		t.Errorf("second restore: %d imports, %v; want none", n, err)
	}
	imps, err := fresh.Imports(ctx)
	if err != nil || len(imps) != 3 || imps[1].By != "kari" || imps[1].Changed != 1 || imps[2].Added != 1 || imps[2].Removed != 1 {
		t.Errorf("imports %+v, %v", imps, err)
	}
	a, h, err := fresh.AsOf(ctx, "p-2025", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || a.Price.FloatString(0) != "90000" || len(h) != 1 {
		t.Errorf("as of 2 January: %v, %d history rows, %v", a.Price, len(h), err)
	}
	if a, _, err := fresh.AsOf(ctx, "p-2025", time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)); err != nil || a.Price.FloatString(0) != "96000" {
		t.Errorf("as of 3 January: %v, %v", a.Price, err)
	}
	if _, _, err := fresh.AsOf(ctx, "p-2025", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrNotFound) {
		t.Errorf("as of after its removal: %v, want ErrNotFound", err)
	}
}

// TestRestoreRefuses: a store whose imports the warehouse's are not a
// prefix of, or whose file does not match its record, is never replayed.
func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	w := testWarehouse(t)
	rec, _ := record(t, w, st, whFile, 2)

	other := store.NewMemory()
	if _, err := Archive(ctx, other, []byte(whFile), "w.yaml", "ola", 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Restore(ctx, other); !errors.Is(err, ErrDiverged) {
		t.Errorf("restore from another store: %v, want ErrDiverged", err)
	}
	if err := st.Put(ctx, rec.Key, strings.NewReader(whFile+"# edited\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := testWarehouse(t).Restore(ctx, st); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("restore of an edited file: %v, want ErrDiverged naming the sha256", err)
	}
	if _, _, err := w.Record(ctx, st, nil, []byte("x"), "w.yaml", "", time.Now()); !errors.Is(err, ErrNoUser) {
		t.Errorf("import without a user: %v", err)
	}
	keys, _ := st.List(ctx, bibstat.AgreementsPrefix)
	if len(keys) != 2 {
		t.Errorf("store holds %v, want one import and its record", keys)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
