package transform

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
)

// Library is one row of the library register.
type Library struct {
	ID           bibstat.LibraryID
	ISIL         string // "NO-<bibnr>"; empty means ID.ISIL()
	Name         string
	Type         string // BaseBibliotek bibltype: FBI, FIL, FYB, VGS, …
	Municipality string // kommnr as registered, its own field: never derived from ID
	Parent       bibstat.LibraryID
	Closed       bool
	Population   int64 // inhabitants served; 0 means the municipality's
}

// PutLibraries replaces the library register with libs and refreshes the marts.
func (w *Warehouse) PutLibraries(ctx context.Context, libs []Library) error {
	if err := w.putLibraries(ctx, libs); err != nil {
		return err
	}
	return w.Refresh(ctx)
}

func (w *Warehouse) putLibraries(ctx context.Context, libs []Library) error {
	return w.replaceTable(ctx, "libraries", len(libs), func(i int) []any {
		l := libs[i]
		isil := l.ISIL
		if isil == "" {
			isil = l.ID.ISIL()
		}
		var pop any
		if l.Population > 0 {
			pop = l.Population
		}
		return []any{string(l.ID), isil, l.Name, l.Type, l.Municipality, string(l.Parent), l.Closed, pop}
	})
}

// Mapping resolves a vendor's institution id or customer id on a platform
// ("*": every platform) to a library or a pool; exactly one of the two is set.
type Mapping struct {
	Platform string
	Kind     string // "institution_id" or "customer_id"
	Value    string // as the vendor writes it, e.g. "ISIL:NO-2030100" or "ebsco:s1234"
	Library  bibstat.LibraryID
	Pool     string
}

// Pool is usage shared by many libraries and the rule that allocates it.
type Pool struct {
	ID      string
	Name    string
	Rule    string // "population" (default), "equal", "metric" or "logins"
	Metric  string // the metric whose share allocates, for rules "metric" and "logins"
	Members []bibstat.LibraryID
}

// Allocation rules of a pool.
const (
	RulePopulation = "population"
	RuleEqual      = "equal"
	RuleMetric     = "metric"
	// RuleLogins allocates by the members' usage of Metric measured from
	// the consortium's own logins (access-log units) that year, whether
	// or not their platforms count the access log.
	RuleLogins = "logins"
)

// putPlatformChoices writes a platform's choice in the rule of choice
// (source_preference: prefer_source; count_source: count_source) from the
// options the warehouse was opened with, in the same transaction as the
// marts it decides. nil: opened without a config, the recorded choices stand.
func putPlatformChoices(ctx context.Context, tx *sql.Tx, table string, choice map[string]string) error {
	if choice == nil {
		return nil
	}
	ids := slices.Sorted(maps.Keys(choice))
	return replaceRows(ctx, tx, table, len(ids), func(i int) []any {
		return []any{ids[i], choice[ids[i]]}
	})
}

// PutMappings replaces the institution mapping and refreshes the marts.
func (w *Warehouse) PutMappings(ctx context.Context, maps []Mapping) error {
	if err := w.putMappings(ctx, maps); err != nil {
		return err
	}
	return w.Refresh(ctx)
}

func (w *Warehouse) putMappings(ctx context.Context, maps []Mapping) error {
	return w.replaceTable(ctx, "institution_map", len(maps), func(i int) []any {
		m := maps[i]
		var lib, pool any
		if m.Library != "" {
			lib = string(m.Library)
		}
		if m.Pool != "" {
			pool = m.Pool
		}
		return []any{m.Platform, m.Kind, m.Value, lib, pool}
	})
}

// PutPools replaces the pools and their members and refreshes the marts.
func (w *Warehouse) PutPools(ctx context.Context, pools []Pool) error {
	if err := w.putPools(ctx, pools); err != nil {
		return err
	}
	return w.Refresh(ctx)
}

func (w *Warehouse) putPools(ctx context.Context, pools []Pool) error {
	type member struct{ pool, lib string }
	var members []member
	for i, p := range pools {
		if p.Rule == "" {
			pools[i].Rule = RulePopulation
		}
		for _, l := range p.Members {
			members = append(members, member{p.ID, string(l)})
		}
	}
	err := w.replaceTable(ctx, "pools", len(pools), func(i int) []any {
		return []any{pools[i].ID, pools[i].Name, pools[i].Rule, pools[i].Metric}
	})
	if err != nil {
		return err
	}
	return w.replaceTable(ctx, "pool_members", len(members), func(i int) []any {
		return []any{members[i].pool, members[i].lib}
	})
}

// replaceTable replaces every row of a small dimension table in one
// transaction. Dimensions have hundreds of rows, so plain inserts are fine;
// facts never take this path.
func (w *Warehouse) replaceTable(ctx context.Context, table string, n int, row func(int) []any) error {
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put %s: %w", table, err)
	}
	defer tx.Rollback()
	if err := replaceRows(ctx, tx, table, n, row); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put %s: %w", table, err)
	}
	return nil
}

func replaceRows(ctx context.Context, tx *sql.Tx, table string, n int, row func(int) []any) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
		return fmt.Errorf("put %s: %w", table, err)
	}
	if n == 0 {
		return nil
	}
	first := row(0)
	ph := "?"
	for range len(first) - 1 {
		ph += ", ?"
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` VALUES (`+ph+`)`)
	if err != nil {
		return fmt.Errorf("put %s: %w", table, err)
	}
	defer stmt.Close()
	for i := range n {
		args := first
		if i > 0 {
			args = row(i)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("put %s row %d %v: %w", table, i, args, err)
		}
	}
	return nil
}

// putGeography loads the embedded reference data: municipalities of 2024,
// the 2023→2024 successors with the Ålesund split share, counties of both
// structures, and population per year.
func (w *Warehouse) putGeography(ctx context.Context) error {
	munis, err := reference.Municipalities()
	if err != nil {
		return err
	}
	succ, err := reference.Successors()
	if err != nil {
		return err
	}
	pops, err := reference.PopulationYears()
	if err != nil {
		return err
	}
	numbers := slices.Sorted(maps.Keys(munis))
	shares := splitShares(succ, munis)

	type county struct{ code, name, from, to string }
	var counties []county
	seen := map[string]bool{}
	for _, s := range succ {
		if !seen["old"+s.FromCounty] {
			seen["old"+s.FromCounty] = true
			counties = append(counties, county{s.FromCounty, s.FromCountyName, "2020-01-01", "2024-01-01"})
		}
	}
	for _, n := range numbers {
		m := munis[n]
		if !seen["new"+m.County] {
			seen["new"+m.County] = true
			counties = append(counties, county{m.County, m.CountyName, "2024-01-01", ""})
		}
	}

	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put geography: %w", err)
	}
	defer tx.Rollback()
	err = replaceRows(ctx, tx, "municipalities", len(numbers), func(i int) []any {
		m := munis[numbers[i]]
		return []any{m.Number, m.Name, m.County, m.CountyName, m.Population}
	})
	if err != nil {
		return err
	}
	err = replaceRows(ctx, tx, "municipality_successors", len(succ), func(i int) []any {
		s := succ[i]
		sh := shares[s.From+">"+s.To]
		return []any{s.From, s.FromName, s.FromCounty, s.FromCountyName, s.To, s.Change, sh.share, sh.rule}
	})
	if err != nil {
		return err
	}
	err = replaceRows(ctx, tx, "counties", len(counties), func(i int) []any {
		c := counties[i]
		var to any
		if c.to != "" {
			to = c.to
		}
		return []any{c.code, c.name, c.from, to}
	})
	if err != nil {
		return err
	}
	err = replaceRows(ctx, tx, "population", len(pops), func(i int) []any {
		p := pops[i]
		return []any{p.Municipality, p.Year, p.Population, p.Source}
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put geography: %w", err)
	}
	return nil
}

type share struct {
	share float64
	rule  string
}

// splitShares decides how much of an old municipality each successor takes.
// The recorded rule for a split (only Ålesund 1507 → 1508 Ålesund + 1580
// Haram in 2024) is the successors' share of their combined population in
// the embedded population year; a library registered under the old code is
// spread over the successors by that share. Counties are not affected: both
// successors lie in Møre og Romsdal.
func splitShares(succ []reference.Successor, munis map[string]reference.Municipality) map[string]share {
	total := map[string]int{}
	for _, s := range succ {
		total[s.From] += munis[s.To].Population
	}
	out := map[string]share{}
	for _, s := range succ {
		if s.Change != "split" {
			out[s.From+">"+s.To] = share{1, s.Change}
			continue
		}
		pop := munis[s.To].Population
		out[s.From+">"+s.To] = share{float64(pop) / float64(total[s.From]),
			fmt.Sprintf("split by population share: %s %d of %d", s.To, pop, total[s.From])}
	}
	return out
}
