package transform

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat"
)

// Copies: the same bytes archived twice (a response under a second
// platform id, a file uploaded again under another vendor id) are one
// statement of usage, told by the sidecars' sha256.

// firstArrivals is, per sha256, when those bytes were first archived. A
// byte-identical copy archived later (the same response under a second
// platform id, a file uploaded again under another vendor id) is the same
// statement of usage as the first: dated by its first arrival, it never
// passes for "the newest" and so never undoes a restatement made since.
func firstArrivals(cands map[string][]bibstat.Sidecar) map[string]time.Time {
	out := map[string]time.Time{}
	for _, cs := range cands {
		for _, side := range cs {
			if t, ok := out[side.SHA256]; side.SHA256 != "" && (!ok || side.HarvestedAt.Before(t)) {
				out[side.SHA256] = side.HarvestedAt
			}
		}
	}
	return out
}

// arrivedAt is the time the rule of choice dates a harvest by: its bytes' first arrival.
func arrivedAt(side bibstat.Sidecar, arrived map[string]time.Time) time.Time {
	if t, ok := arrived[side.SHA256]; ok && side.SHA256 != "" {
		return t.UTC()
	}
	return side.HarvestedAt.UTC()
}

// staleCopies finds the sources whose loaded object is a copy of an object
// its own source has since superseded: the vendor restated that usage (to
// other figures, or to "no usage", which leaves no rows to compete in a
// cell), so the copy states what is no longer true and never counts.
// loaded is each source's loaded raw key. Result: source → why.
func staleCopies(cands map[string][]bibstat.Sidecar, loaded map[string]string) map[string]string {
	superseded := map[string]string{} // sha256 → why
	sha := map[string]string{}        // raw key → sha256
	for _, cs := range cands {
		for _, side := range cs {
			sha[side.Key] = side.SHA256
		}
	}
	for unit, cs := range cands {
		cur := loaded[unit]
		for _, side := range cs {
			if side.Key < cur && side.SHA256 != "" && side.SHA256 != sha[cur] {
				superseded[side.SHA256] = fmt.Sprintf("a copy of %s, superseded by %s", side.Key, cur)
			}
		}
	}
	out := map[string]string{}
	for unit, key := range loaded {
		if why, ok := superseded[sha[key]]; ok && sha[key] != "" {
			out[unit] = why
		}
	}
	return out
}

// putStaleCopies records staleCopies in stale_sources, which the rule of
// choice reads, and reports whether they changed (the marts must then be
// refreshed even when nothing was loaded).
func (w *Warehouse) putStaleCopies(ctx context.Context, cands map[string][]bibstat.Sidecar) (bool, error) {
	loaded, err := w.loadedUnits(ctx)
	if err != nil {
		return false, err
	}
	stale := staleCopies(cands, loaded)
	rows, err := w.DB.QueryContext(ctx, `SELECT unit_key, reason FROM stale_sources`)
	if err != nil {
		return false, fmt.Errorf("load: stale copies: %w", err)
	}
	had := map[string]string{}
	err = scanAll(rows, func(r *sql.Rows) error {
		var u, why string
		if err := r.Scan(&u, &why); err != nil {
			return err
		}
		had[u] = why
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("load: stale copies: %w", err)
	}
	if maps.Equal(had, stale) {
		return false, nil
	}
	units := slices.Sorted(maps.Keys(stale))
	return true, w.replaceTable(ctx, "stale_sources", len(units), func(i int) []any { return []any{units[i], stale[units[i]]} })
}
