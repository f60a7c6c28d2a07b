package agreements

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

// maxImport bounds an agreements file read back from the store.
const maxImport = 16 << 20

// ImportResult says what an import did, or would do, by agreement id.
type ImportResult struct {
	Added, Changed, Removed, Unchanged []string
	Changes                            map[string][]string // per changed id, one phrase per field
}

// ImportRecord is one import of the registry as the store keeps it beside
// the YAML, byte-exact under Key.
type ImportRecord struct {
	Key        string    `json:"key"`
	SHA256     string    `json:"sha256"`
	At         time.Time `json:"at"`
	By         string    `json:"by"`   // the importing user
	File       string    `json:"file"` // the file name given on import
	Agreements int       `json:"agreements"`
}

// SHA256 is the hex sha256 of an agreements file as its import records it.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Archive stores an agreements file byte-exact in st, then its record; a
// record therefore always has its file. n is how many agreements it holds.
func Archive(ctx context.Context, st store.Store, b []byte, file, by string, n int, at time.Time) (ImportRecord, error) {
	rec := ImportRecord{SHA256: SHA256(b), At: at.UTC(), By: by, File: file, Agreements: n}
	rec.Key = bibstat.AgreementsImportKey(rec.At, rec.SHA256)
	if err := st.Put(ctx, rec.Key, bytes.NewReader(b)); err != nil {
		return rec, fmt.Errorf("archive agreements %s: %w", file, err)
	}
	meta, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return rec, fmt.Errorf("archive agreements %s: %w", file, err)
	}
	if err := st.Put(ctx, rec.Key+bibstat.AgreementsRecordSuffix, bytes.NewReader(meta)); err != nil {
		return rec, fmt.Errorf("archive agreements %s: record: %w", file, err)
	}
	return rec, nil
}

// Record stores the agreements file b (as) in st and applies it, unless its
// bytes are the newest import's: the same file is not stored twice. It
// reports the import and whether it stored one. A failure after storing
// leaves the import to the next Restore.
func (w *Warehouse) Record(ctx context.Context, st store.Store, as []Agreement, b []byte, file, by string, at time.Time) (ImportRecord, bool, error) {
	recs, err := StoredImports(ctx, st)
	if err != nil {
		return ImportRecord{}, false, err
	}
	if n := len(recs); n > 0 && recs[n-1].SHA256 == SHA256(b) {
		return recs[n-1], false, nil
	}
	if by == "" {
		return ImportRecord{}, false, fmt.Errorf("import agreements %s: %w", file, ErrNoUser)
	}
	rec, err := Archive(ctx, st, b, file, by, len(as), at)
	if err != nil {
		return rec, false, err
	}
	if _, err := w.Apply(ctx, as, rec); err != nil {
		return rec, true, fmt.Errorf("%w (the file is stored as %s; the next command replays it)", err, rec.Key)
	}
	return rec, true, nil
}

// ErrNoUser: an import must say who made it.
var ErrNoUser = errors.New("no importing user given")

// StoredImports returns every import of the registry in st, oldest first.
func StoredImports(ctx context.Context, st store.Store) ([]ImportRecord, error) {
	keys, err := st.List(ctx, bibstat.AgreementsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list agreement imports: %w", err)
	}
	var out []ImportRecord
	for _, k := range keys {
		if !strings.HasSuffix(k, bibstat.AgreementsRecordSuffix) {
			continue
		}
		b, err := store.ReadAll(ctx, st, k, maxImport)
		if err != nil {
			return nil, fmt.Errorf("read agreement import %s: %w", k, err)
		}
		var r ImportRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read agreement import %s: %w", k, err)
		}
		if r.Key != strings.TrimSuffix(k, bibstat.AgreementsRecordSuffix) {
			return nil, fmt.Errorf("read agreement import %s: record names %q: %w", k, r.Key, ErrDiverged)
		}
		out = append(out, r)
	}
	return out, nil
}

// ErrDiverged: the warehouse's registry is not the store's imports replayed
// in order (a record out of place, or imports the store does not hold).
var ErrDiverged = errors.New("agreement registry differs from the imports in the store")

// Restore brings the warehouse's registry up to the imports in st by
// replaying, in order, every one it has not applied: after a rebuild or on
// a new warehouse file that is all of them, so the registry and its history
// come back as they were. It reports how many it applied.
func (w *Warehouse) Restore(ctx context.Context, st store.Store) (int, error) {
	recs, err := StoredImports(ctx, st)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	if _, err := w.DB.ExecContext(ctx, ddl); err != nil {
		return 0, fmt.Errorf("restore agreements: %w", err)
	}
	applied, err := strings1(ctx, w.DB, `SELECT import_key FROM agreement_imports ORDER BY import_key`)
	if err != nil {
		return 0, fmt.Errorf("restore agreements: %w", err)
	}
	for i, k := range applied {
		if i >= len(recs) || recs[i].Key != k {
			return 0, fmt.Errorf("restore agreements: warehouse has applied %s, the store's import %d is %s: %w (run 'bibstat transform --rebuild')",
				k, i+1, keyAt(recs, i), ErrDiverged)
		}
	}
	for _, r := range recs[len(applied):] {
		b, err := store.ReadAll(ctx, st, r.Key, maxImport)
		if err != nil {
			return 0, fmt.Errorf("restore agreements: %w", err)
		}
		if sum := SHA256(b); sum != r.SHA256 {
			return 0, fmt.Errorf("restore agreements: %s has sha256 %s, its record says %s: %w", r.Key, sum, r.SHA256, ErrDiverged)
		}
		as, err := parse(r.File, b, nil)
		if err != nil {
			return 0, fmt.Errorf("restore agreements: %s: %w", r.Key, err)
		}
		if _, err := w.Apply(ctx, as, r); err != nil {
			return 0, fmt.Errorf("restore agreements: %s: %w", r.Key, err)
		}
	}
	return len(recs) - len(applied), nil
}

func keyAt(recs []ImportRecord, i int) string {
	if i < len(recs) {
		return recs[i].Key
	}
	return "missing"
}

// Import makes the warehouse's registry equal to agreements, read from
// source (a file name), and appends a history row for every agreement it
// creates, changes or removes. It records no import: the commands use
// Archive and Apply, so that the store holds the registry.
func (w *Warehouse) Import(ctx context.Context, agreements []Agreement, source string, now time.Time) (ImportResult, error) {
	return w.inTx(ctx, true, func(tx *sql.Tx) (ImportResult, error) { return apply(ctx, tx, agreements, source, now) })
}

// Plan says what importing agreements would change, changing nothing.
func (w *Warehouse) Plan(ctx context.Context, agreements []Agreement) (ImportResult, error) {
	return w.inTx(ctx, false, func(tx *sql.Tx) (ImportResult, error) { return apply(ctx, tx, agreements, "plan", time.Now()) })
}

// Apply imports agreements as the stored import rec, and records it.
func (w *Warehouse) Apply(ctx context.Context, agreements []Agreement, rec ImportRecord) (ImportResult, error) {
	return w.inTx(ctx, true, func(tx *sql.Tx) (ImportResult, error) {
		res, err := apply(ctx, tx, agreements, rec.File, rec.At)
		if err != nil {
			return res, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO agreement_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, rec.Key, rec.At, rec.By,
			rec.SHA256, rec.File, len(agreements), len(res.Added), len(res.Changed), len(res.Removed))
		if err != nil {
			return res, fmt.Errorf("import agreements: record %s: %w", rec.Key, err)
		}
		return res, nil
	})
}

// inTx runs f in a transaction with the registry's tables, committing it
// only when commit is set.
func (w *Warehouse) inTx(ctx context.Context, commit bool, f func(*sql.Tx) (ImportResult, error)) (ImportResult, error) {
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import agreements: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return ImportResult{}, fmt.Errorf("import agreements: create tables: %w", err)
	}
	res, err := f(tx)
	if err != nil || !commit {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("import agreements: %w", err)
	}
	return res, nil
}

// apply makes the registry in tx equal to agreements, with history rows.
func apply(ctx context.Context, tx *sql.Tx, agreements []Agreement, source string, now time.Time) (ImportResult, error) {
	res := ImportResult{Changes: map[string][]string{}}
	old, err := list(ctx, tx)
	if err != nil {
		return res, fmt.Errorf("import agreements: %w", err)
	}
	byID := map[string]Agreement{}
	for _, a := range old {
		byID[a.ID] = a
	}
	history := func(id, change, summary string, spec []byte) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agreement_history VALUES (?, ?, ?, ?, ?, ?)`, id, now, change, summary, source, string(spec))
		return err
	}
	inFile := map[string]bool{}
	for _, a := range agreements {
		inFile[a.ID] = true
		spec, err := json.Marshal(a.spec)
		if err != nil {
			return res, fmt.Errorf("import agreement %s: %w", a.ID, err)
		}
		prev, existed := byID[a.ID]
		change, summary := "created", "created"
		if existed {
			d := diff(prev, a)
			if len(d) == 0 {
				res.Unchanged = append(res.Unchanged, a.ID)
				continue
			}
			change, summary = "changed", strings.Join(d, "; ")
			if err := deleteAgreement(ctx, tx, a.ID); err != nil {
				return res, err
			}
			res.Changed, res.Changes[a.ID] = append(res.Changed, a.ID), d
		} else {
			res.Added = append(res.Added, a.ID)
		}
		if err := insert(ctx, tx, a, spec, source, now); err != nil {
			return res, err
		}
		if err := history(a.ID, change, summary, spec); err != nil {
			return res, fmt.Errorf("import agreement %s: history: %w", a.ID, err)
		}
	}
	for _, a := range old {
		if inFile[a.ID] {
			continue
		}
		spec, _ := json.Marshal(a.spec)
		if err := deleteAgreement(ctx, tx, a.ID); err != nil {
			return res, err
		}
		if err := history(a.ID, "removed", "removed: not in "+source, spec); err != nil {
			return res, fmt.Errorf("import agreement %s: history: %w", a.ID, err)
		}
		res.Removed = append(res.Removed, a.ID)
	}
	return res, nil
}
