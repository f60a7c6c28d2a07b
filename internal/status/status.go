package status

import (
	"cmp"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/config"
)

// Options narrow the report; zero fields do not.
type Options struct {
	Platform, Library string
	From, To          bibstat.Month
}

// Report is the completeness matrix; "bibstat status --json" prints it.
type Report struct {
	Ledger      string                `json:"ledger"`
	GeneratedAt time.Time             `json:"generated_at"`
	From        string                `json:"from,omitempty"`
	To          string                `json:"to,omitempty"`
	Totals      map[bibstat.State]int `json:"totals"`
	Missing     int                   `json:"missing"` // expected units never harvested
	Blocked     int                   `json:"blocked"` // expected units not tried because their credential is broken
	Cells       []Cell                `json:"cells"`
	// Unmapped is usage the warehouse could not attribute (ReadUnmapped);
	// the caller fills it when a warehouse is at hand.
	Unmapped []Unmapped `json:"unmapped_institutions,omitempty"`
}

// Cell is one library × platform × month.
type Cell struct {
	Library  string         `json:"library"`
	Platform string         `json:"platform"`
	Month    string         `json:"month"`
	Counts   map[string]int `json:"counts"` // by state, plus Never
	Problems []Unit         `json:"problems,omitempty"`
}

// Unit is a unit that is not final: its state and why.
type Unit struct {
	Credential  string        `json:"credential"`
	Report      string        `json:"report"`
	State       bibstat.State `json:"state"` // "" when never harvested
	Attempts    int           `json:"attempts,omitempty"`
	Reason      string        `json:"reason"`
	NextAttempt *time.Time    `json:"next_attempt,omitempty"`
	RawKey      string        `json:"raw_key,omitempty"`
}

// Never is the count key of expected units never harvested.
const Never = "never"

// noReason stands in for a failure the ledger kept no error for, so a
// failed unit never reads as if nothing were wrong.
const noReason = "failed, no reason recorded"

// Build reads entries (and, when cfg is not nil, the units cfg expects)
// into the report.
func Build(cfg *config.Config, entries []ledger.Entry, o Options, now time.Time) Report {
	b := builder{o: o, cells: map[cellKey]*Cell{}, seen: map[bibstat.Unit]bool{}}
	b.rep = Report{GeneratedAt: now.UTC(), Totals: map[bibstat.State]int{}}
	for _, e := range entries {
		b.entry(e)
	}
	if cfg != nil {
		b.expected(cfg, entries, now)
	}
	b.rep.Cells = make([]Cell, 0, len(b.cells))
	for _, c := range b.cells {
		b.rep.Cells = append(b.rep.Cells, *c)
	}
	slices.SortFunc(b.rep.Cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Library, b.Library), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Month, b.Month))
	})
	return b.rep
}

// Grid is the report's cells as the ledger's grid; a unit never harvested
// is in state "", the worst.
func (r Report) Grid() ledger.Grid {
	var gb ledger.GridBuilder
	for _, c := range r.Cells {
		for st, n := range c.Counts {
			if st == Never {
				st = ""
			}
			gb.Add(c.Library, c.Platform, c.Month, bibstat.State(st), n)
		}
	}
	return gb.Grid(0)
}

type cellKey struct{ lib, platform, month string }

type builder struct {
	o     Options
	rep   Report
	cells map[cellKey]*Cell
	seen  map[bibstat.Unit]bool
}

func (b *builder) cell(lib, platform, month string) *Cell {
	k := cellKey{lib, platform, month}
	c := b.cells[k]
	if c == nil {
		c = &Cell{Library: lib, Platform: platform, Month: month, Counts: map[string]int{}}
		b.cells[k] = c
	}
	return c
}

func (b *builder) inRange(m bibstat.Month) bool {
	return (b.o.From.IsZero() || !m.Before(b.o.From)) && (b.o.To.IsZero() || !b.o.To.Before(m))
}

func (b *builder) wanted(platform, library string) bool {
	return (b.o.Platform == "" || platform == b.o.Platform) && (b.o.Library == "" || library == b.o.Library)
}

// entry counts one ledger entry and lists it when it is not final.
func (b *builder) entry(e ledger.Entry) {
	m, err := bibstat.ParseMonth(e.Month)
	if !b.wanted(e.Platform, string(e.Library)) || err != nil || !b.inRange(m) {
		return
	}
	lib := string(e.Library)
	if lib == "" {
		lib = e.Credential
	}
	c := b.cell(lib, e.Platform, e.Month)
	c.Counts[string(e.State)]++
	b.rep.Totals[e.State]++
	b.seen[e.Unit()] = true
	if e.State == bibstat.StateOK || e.State == bibstat.StateZero {
		return
	}
	u := Unit{Credential: e.Credential, Report: string(e.Report), State: e.State, Attempts: e.Attempts,
		Reason: e.LastError, RawKey: e.RawKey}
	if u.Reason == "" && e.State == bibstat.StateFailed {
		u.Reason = noReason
	}
	if !e.NextAttempt.IsZero() {
		t := e.NextAttempt.UTC()
		u.NextAttempt = &t
	} else if e.State != bibstat.StatePartial && e.State != bibstat.StateUnsupported && e.State != bibstat.StateCredentialsBroken {
		u.Reason += " (gave up; rerun with --force)"
	}
	c.Problems = append(c.Problems, u)
}

// expected counts the units cfg asks for that the ledger has no entry for.
func (b *builder) expected(cfg *config.Config, entries []ledger.Entry, now time.Time) {
	broken := map[string]string{} // platform/credential → why
	for _, e := range entries {
		if e.State == bibstat.StateCredentialsBroken {
			broken[e.Platform+"/"+e.Credential] = e.LastError
		}
	}
	from, to := ingest.Window(cfg, ingest.PlanOptions{From: b.o.From, To: b.o.To, Now: now})
	b.rep.From, b.rep.To = from.String(), to.String()
	for _, cr := range cfg.Credentials {
		if cr.Disabled || !b.wanted(cr.Platform, cr.Library) {
			continue
		}
		p, ok := cfg.Platform(cr.Platform)
		if !ok {
			continue
		}
		for _, m := range bibstat.MonthsBetween(from, to) {
			for _, r := range config.ReportsFor(p) {
				u := bibstat.Unit{Platform: cr.Platform, Credential: cr.CredentialID(), Report: r, Month: m}
				if b.seen[u] {
					continue
				}
				c := b.cell(cr.Library, cr.Platform, m.String())
				if why, ok := broken[cr.Platform+"/"+cr.CredentialID()]; ok {
					b.rep.Blocked++
					// Not tried: the credential broke on another month.
					c.Counts[string(bibstat.StateCredentialsBroken)]++
					c.Problems = append(c.Problems, Unit{Credential: u.Credential, Report: string(r),
						State: bibstat.StateCredentialsBroken, Reason: "not fetched: the credential is broken (" + why + ")"})
					continue
				}
				b.rep.Missing++
				c.Counts[Never]++
				c.Problems = append(c.Problems, Unit{Credential: u.Credential, Report: string(r), Reason: "never harvested"})
			}
		}
	}
}
