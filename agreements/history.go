package agreements

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ImportRow is one applied import and what it changed, as "bibstat
// agreements history" lists it.
type ImportRow struct {
	ImportRecord
	Added, Changed, Removed int
}

// Imports returns the imports applied to the warehouse, oldest first.
func (w *Warehouse) Imports(ctx context.Context) ([]ImportRow, error) {
	if _, err := w.DB.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("agreement imports: %w", err)
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT import_key, imported_at, imported_by, sha256, file, agreements, added, changed, removed
		FROM agreement_imports ORDER BY import_key`)
	if err != nil {
		return nil, fmt.Errorf("agreement imports: %w", err)
	}
	defer rows.Close()
	var out []ImportRow
	for rows.Next() {
		var r ImportRow
		if err := rows.Scan(&r.Key, &r.At, &r.By, &r.SHA256, &r.File, &r.Agreements, &r.Added, &r.Changed, &r.Removed); err != nil {
			return nil, fmt.Errorf("agreement imports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteImports writes one line per import as "bibstat agreements history" prints them.
func WriteImports(w io.Writer, rows []ImportRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no imports; import a registry with 'bibstat agreements import FILE'")
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-12s %-12s %10s %5s %7s %7s  %s\n", "imported (UTC)", "by", "sha256", "agreements", "added", "changed", "removed", "file")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-20s %-12s %-12s %10d %5d %7d %7d  %s\n", r.At.UTC().Format("2006-01-02 15:04:05"), r.By, r.SHA256[:min(12, len(r.SHA256))],
			r.Agreements, r.Added, r.Changed, r.Removed, r.File)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// AsOf returns agreement id as it stood at t, from its history, with the
// history up to t.
func (w *Warehouse) AsOf(ctx context.Context, id string, t time.Time) (Agreement, []HistoryRow, error) {
	if _, err := w.DB.ExecContext(ctx, ddl); err != nil {
		return Agreement{}, nil, fmt.Errorf("agreement %q: %w", id, err)
	}
	h, err := w.History(ctx, id)
	if err != nil {
		return Agreement{}, nil, err
	}
	var spec string
	var upTo []HistoryRow
	for _, r := range h {
		if r.At.After(t) {
			break
		}
		upTo = append(upTo, r)
	}
	if len(upTo) == 0 || upTo[len(upTo)-1].Change == "removed" {
		return Agreement{}, nil, fmt.Errorf("agreement %q as of %s: %w", id, t.Format(time.RFC3339), ErrNotFound)
	}
	err = w.DB.QueryRowContext(ctx, `SELECT spec FROM agreement_history WHERE agreement_id = ? AND changed_at <= ?
		ORDER BY changed_at DESC, rowid DESC LIMIT 1`, id, t).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Agreement{}, nil, fmt.Errorf("agreement %q as of %s: %w", id, t.Format(time.RFC3339), err)
	}
	a, err := fromSpec(id, spec)
	return a, upTo, err
}

// fromSpec reads an agreement back from its stored spec.
func fromSpec(id, spec string) (Agreement, error) {
	var fa fileAgreement
	if err := json.Unmarshal([]byte(spec), &fa); err != nil {
		return Agreement{}, fmt.Errorf("agreement %s: stored spec: %w", id, err)
	}
	a, errs := fa.agreement("warehouse", func(...any) int { return 0 })
	if err := errors.Join(errs...); err != nil {
		return Agreement{}, fmt.Errorf("agreement %s: stored spec: %w", id, err)
	}
	a.spec = fa
	return a, nil
}
