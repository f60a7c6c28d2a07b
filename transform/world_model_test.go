package transform_test

// The model of world_property_test.go: the rules of issue 19 applied to a
// world in plain Go maps, independent of the SQL it checks.

import (
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/internal/reference"
)

// geo is the reference geography as the model reads it.
type geo struct {
	munis map[string]reference.Municipality
	succ  map[string][]string // 2020–2023 code → its 2024 codes
	old   map[string]string   // 2020–2023 code → its county then
	back  map[string]string   // 2024 code → its predecessor's county
}

func newGeo(t *testing.T) geo {
	munis, err := reference.Municipalities()
	if err != nil {
		t.Fatal(err)
	}
	succ, err := reference.Successors()
	if err != nil {
		t.Fatal(err)
	}
	g := geo{munis: munis, succ: map[string][]string{}, old: map[string]string{}, back: map[string]string{}}
	for _, s := range succ {
		g.succ[s.From] = append(g.succ[s.From], s.To)
		g.old[s.From] = s.FromCounty
		g.back[s.To] = s.FromCounty
	}
	return g
}

// now is the 2024 municipalities a registered code stands for.
func (g geo) now(code string) []string {
	if _, ok := g.munis[code]; ok {
		return []string{code}
	}
	return g.succ[code]
}

// population: every inhabitant the library serves, once.
func (g geo) population(code string) float64 {
	var n int
	for _, m := range g.now(code) {
		n += g.munis[m].Population
	}
	return float64(n)
}

// county is the library's county in the structure of month: 2020–2023
// before 2024. The successors of one code all lie in one county.
func (g geo) county(code, month string) string {
	if month < "2024-01" {
		if c, ok := g.old[code]; ok {
			return c
		}
		return g.back[code]
	}
	return g.munis[g.now(code)[0]].County
}

// model is what the marts must say, computed from the world in plain maps.
type model struct {
	direct, pooled, county, countyNow, unattributed, allocated cells
	population, poolBasis, per1000Pop, titles, sources         cells
	national                                                   map[string]cells // by column
	years                                                      map[string]bool  // with usage
}

func releaseRank(r string) int { return map[string]int{"4": 1, "5": 2, "5.1": 3}[r] }

func reportRank(r string) int { return map[string]int{"PR": 1, "TR": 3, "JR1": 3}[r] }

// runModel applies the rules of issue 19 to w.Sources (never w.Copies:
// an identical copy must change nothing).
func runModel(g geo, w world) model {
	m := model{direct: cells{}, pooled: cells{}, county: cells{}, countyNow: cells{}, unattributed: cells{}, allocated: cells{},
		population: cells{}, poolBasis: cells{}, per1000Pop: cells{}, titles: cells{}, sources: cells{}, national: map[string]cells{}}
	for _, c := range []string{"attributed", "pooled", "unattributed", "total"} {
		m.national[c] = cells{}
	}
	muni := map[string]string{}
	for _, l := range w.Libs {
		muni[l.ID] = l.Muni
	}
	resolve := func(s wSource, r wRow) (kind, id string) {
		if r.Inst == "" {
			return "library", s.Lib // the generator credits only registered libraries by credential
		}
		for _, mp := range w.Maps {
			if mp.Platform == s.Platform && mp.Inst == r.Inst && mp.Pool != "" {
				return "pool", mp.Pool
			} else if mp.Platform == s.Platform && mp.Inst == r.Inst {
				return "library", mp.Library
			}
		}
		if id, ok := strings.CutPrefix(r.Inst, "ISIL:NO-"); ok && muni[id] != "" {
			return "library", id
		}
		return "unattributed", r.Inst
	}
	// One cell, one source: the newest.
	type cell struct{ kind, id, platform, report, release, month string }
	type chosen struct {
		at        int
		rows      []wRow
		key       string
		preferred bool
	}
	// The platform (its id in the sidecar) prefers a kind of source.
	preferred := func(s wSource) bool {
		if s.Upload {
			p := w.Prefer[s.Platform]
			return p == "upload" || p == "upload/"+s.Vendor
		}
		return w.Prefer[s.Vendor] == "sushi"
	}
	// A unit's newest harvest that reads replaces the older ones whole,
	// a 3030 too; one that does not read replaces nothing.
	unitOf := func(s wSource) string {
		if s.Upload { // an upload's releases are units of their own
			return strings.Join([]string{"upload", s.Vendor, s.Report, s.Lib, s.Month, s.Release}, "|")
		}
		return strings.Join([]string{"sushi", s.Vendor, s.Cred, s.Report, s.Month}, "|")
	}
	newest := map[string]int{}
	for _, s := range w.Sources {
		if s.Body != "broken" {
			newest[unitOf(s)] = max(newest[unitOf(s)], s.At)
		}
	}
	best, all := map[cell]chosen{}, map[cell][]chosen{}
	years := map[string]bool{}
	for _, s := range w.Sources {
		if s.At != newest[unitOf(s)] {
			continue
		}
		if len(s.Rows) > 0 { // the years with usage, which library_population covers
			years[s.Month[:4]] = true
		}
		by := map[cell][]wRow{}
		for _, r := range s.Rows {
			kind, id := resolve(s, r)
			c := cell{kind, id, s.Platform, s.Report, s.Release, s.Month}
			by[c] = append(by[c], r)
		}
		key, _, _ := s.object()
		for c, rows := range by {
			ch := chosen{s.At, rows, key, preferred(s)}
			all[c] = append(all[c], ch)
			if cur, ok := best[c]; !ok || ch.preferred && !cur.preferred || ch.preferred == cur.preferred && ch.at > cur.at {
				best[c] = ch
			}
		}
	}
	// Per entity, platform and month the best release; per metric the best report.
	type epm struct{ kind, id, platform, month string }
	type metricKey struct {
		epm
		metric string
	}
	rel, rep := map[epm]int{}, map[metricKey]int{}
	for c := range best {
		k := epm{c.kind, c.id, c.platform, c.month}
		rel[k] = max(rel[k], releaseRank(c.release))
	}
	for c, ch := range best {
		k := epm{c.kind, c.id, c.platform, c.month}
		for _, r := range ch.rows {
			mk := metricKey{k, r.Metric}
			if cur, ok := rep[mk]; releaseRank(c.release) == rel[k] && (!ok || reportRank(c.report) < cur) {
				rep[mk] = reportRank(c.report)
			}
		}
	}
	// Which source each cell (entity, platform, month, report) counts and
	// which it sets aside, as mart_sources says: 1 counted, 0 set aside.
	for c, chs := range all {
		for _, ch := range chs {
			counted := releaseRank(c.release) == rel[epm{c.kind, c.id, c.platform, c.month}] && ch.key == best[c].key
			m.sources[strings.Join([]string{c.kind, c.id, c.platform, c.report, c.month, ch.key}, "|")] = map[bool]float64{true: 1}[counted]
		}
	}
	value := map[metricKey]float64{}
	for c, ch := range best {
		k := epm{c.kind, c.id, c.platform, c.month}
		if releaseRank(c.release) != rel[k] {
			continue
		}
		for _, r := range ch.rows {
			if mk := (metricKey{k, r.Metric}); reportRank(c.report) == rep[mk] {
				value[mk] += float64(r.Count)
			}
			if id := c.id; r.Title != "" {
				if c.kind == "unattributed" {
					id = "" // which id is not the title mart's to say: mart_unattributed says it
				}
				m.titles[strings.Join([]string{c.kind, id, c.platform, r.Title, r.Metric, c.month}, "|")] += float64(r.Count)
			}
		}
	}
	// Where each figure goes.
	toLibrary := func(lib, key, month string, v float64) {
		m.county[g.county(muni[lib], month)+"|"+key] += v
		m.countyNow[g.county(muni[lib], "2024-01")+"|"+key] += v
	}
	for mk, v := range value {
		key := strings.Join([]string{mk.platform, mk.metric, mk.month}, "|")
		m.national["total"][key] += v
		switch mk.kind {
		case "library":
			m.national["attributed"][key] += v
			m.direct[mk.id+"|"+key] += v
			toLibrary(mk.id, key, mk.month, v)
		case "pool":
			m.national["pooled"][key] += v
			p := w.Pools[slices.IndexFunc(w.Pools, func(p wPool) bool { return p.ID == mk.id })]
			var total float64
			for _, lib := range p.Members {
				total += g.population(muni[lib])
			}
			for _, lib := range p.Members {
				share := 1 / float64(len(p.Members))
				if p.Rule == "population" {
					share = g.population(muni[lib]) / total
					m.poolBasis[lib+"|"+mk.month[:4]] = g.population(muni[lib])
				}
				m.allocated[strings.Join([]string{p.ID, lib, key}, "|")] += v * share
				m.pooled[lib+"|"+key] += v * share
				toLibrary(lib, key, mk.month, v*share)
			}
		default:
			m.national["unattributed"][key] += v
			m.unattributed[mk.id+"|"+key] += v
		}
	}
	for _, l := range w.Libs {
		m.population[l.ID] = g.population(l.Muni)
	}
	m.years = years
	countyPop, nationPop := map[string]float64{}, 0.0
	for _, mu := range g.munis {
		countyPop[mu.County] += float64(mu.Population)
		nationPop += float64(mu.Population)
	}
	for k := range m.countyNow {
		m.per1000Pop["county|"+k] = countyPop[strings.SplitN(k, "|", 2)[0]]
	}
	for k := range m.national["total"] {
		m.per1000Pop["national|NO|"+k] = nationPop
	}
	return m
}
