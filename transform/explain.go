package transform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// ErrBadCell: a cell named for Explain is not KIND:ID/PLATFORM/YYYY-MM.
var ErrBadCell = errors.New("bad cell")

// Cell names one cell of the marts: an entity (a library, a pool, or the
// institution id of unattributed usage), a platform and a month.
type Cell struct {
	Kind     string `json:"kind"` // "library", "pool" or "unattributed"
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Month    string `json:"month"` // YYYY-MM
}

func (c Cell) String() string { return c.Kind + ":" + c.ID + "/" + c.Platform + "/" + c.Month }

// ParseCell reads "2030100/avis/2024-01" (a library), "library:2030100/…",
// "pool:p1/…" or "unattributed:ISIL:NO-2999999/…". The id may hold ':'
// and '/': the platform and the month are the last two parts.
func ParseCell(s string) (Cell, error) {
	i := strings.LastIndex(s, "/")
	j := strings.LastIndex(s[:max(i, 0)], "/")
	if i < 0 || j <= 0 {
		return Cell{}, fmt.Errorf("cell %q: want [library:|pool:|unattributed:]ID/PLATFORM/YYYY-MM: %w", s, ErrBadCell)
	}
	c := Cell{Kind: "library", ID: s[:j], Platform: s[j+1 : i], Month: s[i+1:]}
	for _, k := range []string{"library", "pool", "unattributed"} {
		if id, ok := strings.CutPrefix(c.ID, k+":"); ok {
			c.Kind, c.ID = k, id
		}
	}
	if _, err := bibstat.ParseMonth(c.Month); err != nil || c.ID == "" || c.Platform == "" {
		return Cell{}, fmt.Errorf("cell %q: want [library:|pool:|unattributed:]ID/PLATFORM/YYYY-MM: %w", s, ErrBadCell)
	}
	return c, nil
}

// Explanation is what a cell counts and where it came from.
type Explanation struct {
	Cell    Cell          `json:"cell"`
	Counted []MetricCount `json:"counted"` // usage_chosen: what the marts count
	Sources []CellSource  `json:"sources"` // every source of the cell, counted or set aside
}

// MetricCount is one metric of a cell and the report it was taken from.
type MetricCount struct {
	Metric   string `json:"metric"`
	Report   string `json:"report"`
	Release  string `json:"release"`
	DataType string `json:"data_type,omitempty"`
	Count    int64  `json:"count"`
}

// CellSource is one raw object a cell's usage came from or that was set aside.
type CellSource struct {
	Report      string           `json:"report"`
	Release     string           `json:"release"`
	RawKey      string           `json:"raw_key"`
	Source      string           `json:"source"` // "sushi", "upload/VENDOR" or "access-log"
	HarvestedAt string           `json:"harvested_at"`
	Counted     bool             `json:"counted"`
	Reason      string           `json:"reason"`
	Metrics     map[string]int64 `json:"metrics"` // what the object holds for the cell
}

// Explain reads a cell's counted usage and its sources from the marts.
// A cell the marts do not have is an empty Explanation, not an error.
func (w *Warehouse) Explain(ctx context.Context, c Cell) (Explanation, error) {
	m, err := bibstat.ParseMonth(c.Month)
	if err != nil {
		return Explanation{}, fmt.Errorf("explain %s: %w", c, ErrBadCell)
	}
	ex := Explanation{Cell: c}
	// An unattributed cell is named by its institution id; a library or pool by its id.
	target, inst := c.ID, ""
	if c.Kind == "unattributed" {
		target, inst = "", c.ID
	}
	args := []any{c.Kind, target, inst, c.Platform, m.First()}
	rows, err := w.DB.QueryContext(ctx, `SELECT metric_type, report_id, release, data_type, sum(count)::BIGINT FROM usage_chosen
		WHERE target_kind = ? AND target_id = ? AND institution_id = ? AND platform = ? AND month = ?
		GROUP BY ALL ORDER BY ALL`, args...)
	if err != nil {
		return ex, fmt.Errorf("explain %s: %w", c, err)
	}
	err = scanAll(rows, func(r *sql.Rows) error {
		var mc MetricCount
		if err := r.Scan(&mc.Metric, &mc.Report, &mc.Release, &mc.DataType, &mc.Count); err != nil {
			return err
		}
		ex.Counted = append(ex.Counted, mc)
		return nil
	})
	if err != nil {
		return ex, fmt.Errorf("explain %s: %w", c, err)
	}
	rows, err = w.DB.QueryContext(ctx, `SELECT s.report_id, s.release, s.raw_key, s.source, strftime(s.harvested_at, '%Y-%m-%dT%H:%M:%SZ'),
		s.counted, s.reason, a.metric_type, sum(a.count)::BIGINT
		FROM source_choice s
		JOIN agg_usage a ON a.unit_key = s.unit_key AND a.platform = s.platform AND a.month = s.month AND a.report_id = s.report_id
		JOIN attribution t ON t.platform = a.platform AND t.library_id = a.library_id AND t.institution_id = a.institution_id
		  AND t.customer_id = a.customer_id AND t.target_kind = s.target_kind AND t.target_id = s.target_id
		WHERE s.target_kind = ? AND s.target_id = ? AND s.institution_id = ? AND s.platform = ? AND s.month = ?
		  AND (s.target_kind <> 'unattributed' OR a.institution_id = s.institution_id)
		GROUP BY ALL ORDER BY s.counted DESC, s.report_id, s.raw_key, a.metric_type`, args...)
	if err != nil {
		return ex, fmt.Errorf("explain %s: %w", c, err)
	}
	err = scanAll(rows, func(r *sql.Rows) error {
		var s CellSource
		var metric string
		var n int64
		if err := r.Scan(&s.Report, &s.Release, &s.RawKey, &s.Source, &s.HarvestedAt, &s.Counted, &s.Reason, &metric, &n); err != nil {
			return err
		}
		if k := len(ex.Sources) - 1; k >= 0 && ex.Sources[k].RawKey == s.RawKey && ex.Sources[k].Report == s.Report {
			ex.Sources[k].Metrics[metric] = n
			return nil
		}
		s.Metrics = map[string]int64{metric: n}
		ex.Sources = append(ex.Sources, s)
		return nil
	})
	if err != nil {
		return ex, fmt.Errorf("explain %s: %w", c, err)
	}
	return ex, nil
}

func scanAll(rows *sql.Rows, each func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// WriteText prints the explanation for a person.
func (ex Explanation) WriteText(out io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s, %s\n", ex.Cell.Kind, ex.Cell.ID, ex.Cell.Platform, ex.Cell.Month)
	if len(ex.Counted) == 0 && len(ex.Sources) == 0 {
		b.WriteString("  no usage in the warehouse for this cell\n")
	}
	if len(ex.Counted) > 0 {
		b.WriteString("counted (usage_chosen, what every mart sums):\n")
	}
	for _, m := range ex.Counted {
		dt := ""
		if m.DataType != "" {
			dt = " " + m.DataType
		}
		fmt.Fprintf(&b, "  %-28s %12d  from %s release %s%s\n", m.Metric, m.Count, m.Report, m.Release, dt)
	}
	if len(ex.Sources) > 0 {
		b.WriteString("sources (mart_sources):\n")
	}
	for _, s := range ex.Sources {
		state := "counted"
		if !s.Counted {
			state = "set aside"
		}
		fmt.Fprintf(&b, "  %-9s %s release %s, %s, %s\n    %s\n", state, s.Report, s.Release, s.Source, s.HarvestedAt, s.RawKey)
		if !s.Counted {
			fmt.Fprintf(&b, "    why: %s\n", s.Reason)
		}
		for _, k := range slices.Sorted(maps.Keys(s.Metrics)) {
			fmt.Fprintf(&b, "    %-28s %12d\n", k, s.Metrics[k])
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}
