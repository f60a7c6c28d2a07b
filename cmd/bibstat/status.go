package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
)

func statusCommand() command {
	return command{name: "status", summary: "print the harvest's completeness: library × platform × month, what is missing and why",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "status", "", "Reads the ledger (while a harvest may be running) and prints, for every library ×\n"+
				"platform × month, the units by state and what is missing and why. With a config, units\n"+
				"never harvested count as missing.")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`; its ledger and credentials are used")
			ledgerPath := fs.String("ledger", "", "read this ledger `file` instead of the config's (no expected units)")
			asJSON := fs.Bool("json", false, "print one JSON document for machines")
			platform := fs.String("platform", "", "only this `platform` id")
			library := fs.String("library", "", "only this library (`bibnr`)")
			from := fs.String("from", "", "first `month` YYYY-MM")
			to := fs.String("to", "", "last `month` YYYY-MM")
			limit := fs.Int("limit", 50, "list at most `n` missing units in text")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			o := statusOptions{platform: *platform, library: *library}
			var err error
			if o.from, err = optMonth("from", *from); err != nil {
				return err
			}
			if o.to, err = optMonth("to", *to); err != nil {
				return err
			}
			path := *ledgerPath
			var cfg *config.Loaded
			if path == "" {
				if cfg, err = config.Load(*cfgPath); err != nil {
					return err
				}
				path = cfg.Path(cfg.Ledger.Path)
			}
			entries, err := ledger.ReadAll(path)
			if err != nil {
				return err
			}
			var c *config.Config
			if cfg != nil {
				c = &cfg.Config
			}
			rep := buildStatus(c, entries, o, time.Now())
			rep.Ledger = path
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printStatus(e.stdout, rep, *limit)
			return nil
		}}
}

type statusOptions struct {
	platform, library string
	from, to          bibstat.Month
}

// statusReport is the completeness matrix; `bibstat status --json` prints it.
type statusReport struct {
	Ledger      string                `json:"ledger"`
	GeneratedAt time.Time             `json:"generated_at"`
	From        string                `json:"from,omitempty"`
	To          string                `json:"to,omitempty"`
	Totals      map[bibstat.State]int `json:"totals"`
	Missing     int                   `json:"missing"` // expected units never harvested
	Blocked     int                   `json:"blocked"` // expected units not tried because their credential is broken
	Cells       []statusCell          `json:"cells"`
}

// statusCell is one library × platform × month.
type statusCell struct {
	Library  string         `json:"library"`
	Platform string         `json:"platform"`
	Month    string         `json:"month"`
	Counts   map[string]int `json:"counts"` // by state, plus "never"
	Problems []statusUnit   `json:"problems,omitempty"`
}

// statusUnit is a unit that is not final: its state and why.
type statusUnit struct {
	Credential  string        `json:"credential"`
	Report      string        `json:"report"`
	State       bibstat.State `json:"state"` // "" when never harvested
	Attempts    int           `json:"attempts,omitempty"`
	Reason      string        `json:"reason"`
	NextAttempt *time.Time    `json:"next_attempt,omitempty"`
	RawKey      string        `json:"raw_key,omitempty"`
}

const stateNever = "never"

func buildStatus(cfg *config.Config, entries []ledger.Entry, o statusOptions, now time.Time) statusReport {
	rep := statusReport{GeneratedAt: now.UTC(), Totals: map[bibstat.State]int{}}
	type key struct{ lib, platform, month string }
	cells := map[key]*statusCell{}
	cell := func(lib, platform, month string) *statusCell {
		k := key{lib, platform, month}
		c := cells[k]
		if c == nil {
			c = &statusCell{Library: lib, Platform: platform, Month: month, Counts: map[string]int{}}
			cells[k] = c
		}
		return c
	}
	inRange := func(m string) bool {
		mm, err := bibstat.ParseMonth(m)
		return err == nil && (o.from.IsZero() || !mm.Before(o.from)) && (o.to.IsZero() || !o.to.Before(mm))
	}
	seen := map[bibstat.Unit]bool{}
	broken := map[string]string{} // platform/credential → why
	for _, e := range entries {
		if e.State == bibstat.StateCredentialsBroken {
			broken[e.Platform+"/"+e.Credential] = e.LastError
		}
	}
	for _, e := range entries {
		if (o.platform != "" && e.Platform != o.platform) || (o.library != "" && string(e.Library) != o.library) || !inRange(e.Month) {
			continue
		}
		lib := string(e.Library)
		if lib == "" {
			lib = e.Credential
		}
		c := cell(lib, e.Platform, e.Month)
		c.Counts[string(e.State)]++
		rep.Totals[e.State]++
		seen[e.Unit()] = true
		if e.State != bibstat.StateOK && e.State != bibstat.StateZero {
			u := statusUnit{Credential: e.Credential, Report: string(e.Report), State: e.State, Attempts: e.Attempts,
				Reason: e.LastError, RawKey: e.RawKey}
			if !e.NextAttempt.IsZero() {
				t := e.NextAttempt.UTC()
				u.NextAttempt = &t
			} else if e.State != bibstat.StatePartial && e.State != bibstat.StateUnsupported && e.State != bibstat.StateCredentialsBroken {
				u.Reason += " (gave up; rerun with --force)"
			}
			c.Problems = append(c.Problems, u)
		}
	}
	if cfg != nil {
		from, to := ingest.Window(cfg, ingest.PlanOptions{From: o.from, To: o.to, Now: now})
		rep.From, rep.To = from.String(), to.String()
		for _, cr := range cfg.Credentials {
			if cr.Disabled || (o.platform != "" && cr.Platform != o.platform) || (o.library != "" && cr.Library != o.library) {
				continue
			}
			p, ok := cfg.Platform(cr.Platform)
			if !ok {
				continue
			}
			for _, m := range bibstat.MonthsBetween(from, to) {
				for _, r := range config.ReportsFor(p) {
					u := bibstat.Unit{Platform: cr.Platform, Credential: cr.CredentialID(), Report: r, Month: m}
					if seen[u] {
						continue
					}
					c := cell(cr.Library, cr.Platform, m.String())
					if why, ok := broken[cr.Platform+"/"+cr.CredentialID()]; ok {
						rep.Blocked++
						// Not tried: the credential broke on another month.
						c.Counts[string(bibstat.StateCredentialsBroken)]++
						c.Problems = append(c.Problems, statusUnit{Credential: u.Credential, Report: string(r),
							State: bibstat.StateCredentialsBroken, Reason: "not fetched: the credential is broken (" + why + ")"})
						continue
					}
					rep.Missing++
					c.Counts[stateNever]++
					c.Problems = append(c.Problems, statusUnit{Credential: u.Credential, Report: string(r), Reason: "never harvested"})
				}
			}
		}
	}
	rep.Cells = make([]statusCell, 0, len(cells))
	for _, c := range cells {
		rep.Cells = append(rep.Cells, *c)
	}
	sort.Slice(rep.Cells, func(i, j int) bool {
		a, b := rep.Cells[i], rep.Cells[j]
		if a.Library != b.Library {
			return a.Library < b.Library
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.Month < b.Month
	})
	return rep
}

// stateMarks are the one-letter codes of the text matrix.
var stateMarks = []struct {
	state string
	mark  string
}{
	{stateNever, "-"}, {string(bibstat.StateFailed), "F"}, {string(bibstat.StateCredentialsBroken), "C"},
	{string(bibstat.StateThrottled), "t"}, {string(bibstat.StateQueued), "q"}, {string(bibstat.StateNotReady), "n"},
	{string(bibstat.StateUnsupported), "u"}, {string(bibstat.StatePartial), "p"}, {string(bibstat.StateZero), "0"},
	{string(bibstat.StateOK), "."},
}

// mark is the worst state of a cell.
func mark(counts map[string]int) string {
	for _, sm := range stateMarks {
		if counts[sm.state] > 0 {
			return sm.mark
		}
	}
	return " "
}

func printStatus(w io.Writer, rep statusReport, limit int) {
	fmt.Fprintf(w, "ledger %s", rep.Ledger)
	if rep.From != "" {
		fmt.Fprintf(w, ", months %s to %s", rep.From, rep.To)
	}
	fmt.Fprintln(w)
	var parts []string
	total := 0
	for _, sm := range stateMarks {
		n := rep.Totals[bibstat.State(sm.state)]
		switch sm.state {
		case stateNever:
			n = rep.Missing
		case string(bibstat.StateCredentialsBroken):
			n += rep.Blocked
		}
		total += n
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", sm.state, n))
		}
	}
	fmt.Fprintf(w, "units: %d  %s\n", total, strings.Join(parts, " "))
	if len(rep.Cells) == 0 {
		fmt.Fprintln(w, "nothing harvested yet")
		return
	}

	// The matrix: one row per library × platform, one column per month.
	months := map[string]bool{}
	type row struct{ lib, platform string }
	rows := map[row]map[string]map[string]int{}
	for _, c := range rep.Cells {
		months[c.Month] = true
		r := row{c.Library, c.Platform}
		if rows[r] == nil {
			rows[r] = map[string]map[string]int{}
		}
		rows[r][c.Month] = c.Counts
	}
	ms := slices.Sorted(maps.Keys(months))
	rs := make([]row, 0, len(rows))
	for r := range rows {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].lib != rs[j].lib {
			return rs[i].lib < rs[j].lib
		}
		return rs[i].platform < rs[j].platform
	})
	fmt.Fprintf(w, "\nmatrix (%s to %s): . ok  0 zero  p partial  n not_ready  q queued  t throttled  u unsupported  C credentials_broken  F failed  - never\n", ms[0], ms[len(ms)-1])
	complete := 0
	shown := 0
	for _, r := range rs {
		var line strings.Builder
		good := true
		for _, m := range ms {
			mk := mark(rows[r][m])
			if mk != "." && mk != "0" {
				good = false
			}
			line.WriteString(mk)
		}
		if good {
			complete++
			if len(rs) > 200 {
				continue // a large matrix lists only incomplete rows
			}
		}
		shown++
		fmt.Fprintf(w, "  %-8s %-16s %s\n", r.lib, r.platform, line.String())
	}
	if len(rs) > 200 {
		fmt.Fprintf(w, "  (%d complete library × platform rows not shown; --library or --platform to see them)\n", complete)
	}
	fmt.Fprintf(w, "complete: %d of %d library × platform rows\n", complete, len(rs))

	// What is missing and why.
	var probs []string
	n := 0
	for _, c := range rep.Cells {
		for _, p := range c.Problems {
			n++
			if len(probs) >= limit {
				continue
			}
			st := string(p.State)
			if st == "" {
				st = stateNever
			}
			next := ""
			if p.NextAttempt != nil {
				next = " next " + p.NextAttempt.Format("2006-01-02 15:04Z")
			}
			probs = append(probs, fmt.Sprintf("  %s %s %s/%s %s: %s%s — %s", c.Library, c.Platform, p.Credential, p.Report, c.Month, st, next, p.Reason))
		}
	}
	if n > 0 {
		fmt.Fprintf(w, "\nmissing or not final: %d units\n%s\n", n, strings.Join(probs, "\n"))
		if n > len(probs) {
			fmt.Fprintf(w, "  … and %d more (--limit, or --json for all)\n", n-len(probs))
		}
	}
}
