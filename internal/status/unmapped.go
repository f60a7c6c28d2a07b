package status

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat/transform"
)

// Unmapped is usage whose institution id no mapping, credential or ISIL
// resolved to a registered library or pool: the warehouse keeps it apart
// (mart_unattributed) until the register or the mapping names it.
type Unmapped struct {
	Platform      string           `json:"platform"`
	InstitutionID string           `json:"institution_id"`
	CustomerID    string           `json:"customer_id"`
	First         string           `json:"first_month"`
	Last          string           `json:"last_month"`
	Metrics       map[string]int64 `json:"metrics"` // summed over the months; metrics are never added to each other
}

// ReadUnmapped reads the warehouse's unmapped institutions within o. A
// warehouse without mart_unattributed (never refreshed) has none.
func ReadUnmapped(ctx context.Context, db *sql.DB, o Options) ([]Unmapped, error) {
	q := `SELECT platform, institution_id, customer_id, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'), metric_type, sum(count)::BIGINT
		FROM mart_unattributed WHERE (? = '' OR platform = ?)`
	args := []any{o.Platform, o.Platform}
	if !o.From.IsZero() {
		q += ` AND month >= ?`
		args = append(args, o.From.First())
	}
	if !o.To.IsZero() {
		q += ` AND month <= ?`
		args = append(args, o.To.First())
	}
	rows, err := db.QueryContext(ctx, q+` GROUP BY platform, institution_id, customer_id, metric_type ORDER BY 1, 2, 3, 6`, args...)
	if transform.IsMissingTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read unmapped institutions: %w", err)
	}
	defer rows.Close()
	var out []Unmapped
	for rows.Next() {
		var u Unmapped
		var metric string
		var n int64
		if err := rows.Scan(&u.Platform, &u.InstitutionID, &u.CustomerID, &u.First, &u.Last, &metric, &n); err != nil {
			return nil, fmt.Errorf("read unmapped institutions: %w", err)
		}
		if k := len(out) - 1; k >= 0 && out[k].Platform == u.Platform && out[k].InstitutionID == u.InstitutionID && out[k].CustomerID == u.CustomerID {
			out[k].Metrics[metric] = n
			out[k].First, out[k].Last = min(out[k].First, u.First), max(out[k].Last, u.Last)
			continue
		}
		u.Metrics = map[string]int64{metric: n}
		out = append(out, u)
	}
	return out, rows.Err()
}

// printUnmapped lists the unmapped institutions, at most limit.
func (rep Report) printUnmapped(w io.Writer, limit int) {
	var lines []string
	for _, u := range rep.Unmapped {
		if len(lines) >= limit {
			break
		}
		id := "institution_id " + quoteEmpty(u.InstitutionID)
		if u.CustomerID != "" {
			id += ", customer_id " + u.CustomerID
		}
		var ms []string
		for _, m := range slices.Sorted(maps.Keys(u.Metrics)) {
			ms = append(ms, fmt.Sprintf("%s %d", m, u.Metrics[m]))
		}
		lines = append(lines, fmt.Sprintf("  unmapped institution: %s %s, %s to %s: %s", u.Platform, id, u.First, u.Last, strings.Join(ms, ", ")))
	}
	if len(rep.Unmapped) == 0 {
		return
	}
	fmt.Fprintf(w, "\nunmapped institutions: %d (usage kept apart as unattributed; map them in register/institutions.csv or the library register)\n%s\n",
		len(rep.Unmapped), strings.Join(lines, "\n"))
	if n := len(rep.Unmapped) - len(lines); n > 0 {
		fmt.Fprintf(w, "  … and %d more (--limit, or --json for all)\n", n)
	}
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
