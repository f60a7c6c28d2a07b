package transform_test

// A property test over generated worlds (issue 19 item 6): small random
// worlds of libraries, municipalities across the 2024 reform, releases,
// harvests and uploads, restatements (to 3030 too), harvests that do not
// read, pools, unregistered institution ids and identical copies under a
// second vendor id go through the real path (an object store with
// sidecars, raw objects and parsed rows; Update; the marts), and the marts
// are checked against a small model written here in plain Go maps. The
// model states the rules of issue 19 once:
//
//   - a unit's newest harvest that reads replaces the older ones whole;
//   - a cell of usage is (entity, platform, report, release, month); two
//     sources of one cell are never added: the newest counts;
//   - per entity, platform and month the best release counts (5.1 > 5 > 4),
//     per metric the best report (PR > DR > TR/JR > IR);
//   - a library's inhabitants are those of the 2024 municipalities its
//     registered code became (old Ålesund 1507: Ålesund 1508 + Haram 1580);
//   - usage whose institution id is not in the register is unattributed,
//     under the id the vendor used, until the register names it.
//
// Beside the model: national = Σ counties + unattributed = Σ libraries +
// unattributed; copies change no cell; a rebuild equals the updates.
//
// CI runs seeds 1–4; go test ./transform -run World -world.seed=N
// -world.n=M (or BIBSTAT_WORLD_SEED=N) explores others, -world.all with
// the unfixed findings too. A failing world is written out as a Go
// literal, to be shrunk by hand into knownWorlds.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
	"github.com/bibliotek24/bibstat/transform"
)

var (
	worldSeed = flag.Uint64("world.seed", 1, "first seed of the generated worlds (also $BIBSTAT_WORLD_SEED)")
	worldN    = flag.Int("world.n", 4, "how many generated worlds to check")
	worldAll  = flag.Bool("world.all", false, "generate every feature and run every known world, the unfixed ones too")
)

// unfixedWhy is the finding that still breaks f, or "".
func unfixedWhy(f feature) string {
	if *worldAll {
		return ""
	}
	return unfixed[f]
}

// feature is one kind of thing a generated world may hold.
type feature string

const (
	featSplit        feature = "a library under old Ålesund 1507"
	featOverlap      feature = "a harvest and an upload of the same cell"
	featReleases     feature = "R4, R5 and R5.1 uploads of the same title report and month"
	featUnregistered feature = "usage under an ISIL not in the register"
	featPools        feature = "pools"
	featCopyUpload   feature = "an identical upload under a second vendor id"
	featCopyHarvest  feature = "an identical harvest under a second vendor id"
	featCopyStale    feature = "an identical copy, under a second vendor id, of a source a restatement replaced"
	featTitles       feature = "titles in mart_title_month"
	featZero         feature = "a restatement that is the vendor's 3030 (no usage)"
	featCopyZeroed   feature = "an identical copy, under a second vendor id, of a source a 3030 replaced"
	featPrefer       feature = "a platform that prefers harvests or uploads (prefer_source)"
	featBroken       feature = "a newer harvest whose body does not read"
)

var features = []feature{featSplit, featOverlap, featReleases, featUnregistered, featPools, featCopyUpload, featCopyHarvest,
	featCopyStale, featTitles, featZero, featBroken, featCopyZeroed, featPrefer}

// unfixed names, per feature, the finding in /tmp/briefs/s3/world-findings.md
// that the current code still breaks. Generated worlds leave such a feature
// out, and its minimal world in knownWorlds is skipped, until it is fixed.
// F1–F8 were fixed by 277e8f8 and c711525, F9 by 28a26bb and 8cee6b0; a
// new finding goes here as feature: "issue 19: F10 …" until its fix is
// committed.
var unfixed = map[feature]string{}

// The world: what the register says and what the store holds.
type world struct {
	Libs    []wLib
	Maps    []wMap            // institution_map rows
	Pools   []wPool           // pools.csv rows
	Sources []wSource         // loaded first
	Copies  []wSource         // identical copies of sources under another vendor id, loaded second
	Prefer  map[string]string // platform → the source it prefers: sushi, upload or upload/VENDOR
}

type wLib struct{ ID, Muni string }

// wMap maps a platform's institution id to a library or a pool.
type wMap struct{ Platform, Inst, Library, Pool string }

type wPool struct {
	ID, Rule string // rule population or equal
	Members  []string
}

// wSource is one archived object: a harvest (SUSHI) or one unit of an upload.
type wSource struct {
	Vendor   string // the vendor id it arrived under: the harvest's platform id, or the upload's vendor
	Platform string // the COUNTER platform of its rows
	Upload   bool
	Lib      string // the sidecar's library: the credential's, or the upload's ISIL; "" for a consortium credential
	Cred     string // harvests only
	Release  string // "4", "5" or "5.1"
	Report   string // "PR", "TR" or "JR1"
	Month    string
	At       int // hours after the first harvest
	Rows     []wRow
	Body     string // "": the rows; "3030": the vendor's "no usage"; "broken": a body that does not read
}

type wRow struct {
	Inst, Title, Metric string
	Count               int64
}

// literal writes w as a Go literal for knownWorlds.
func (w world) literal() string {
	var b strings.Builder
	b.WriteString("world{\n\tLibs: []wLib{")
	for _, l := range w.Libs {
		fmt.Fprintf(&b, "{%q, %q}, ", l.ID, l.Muni)
	}
	b.WriteString("},\n\tMaps: []wMap{")
	for _, m := range w.Maps {
		fmt.Fprintf(&b, "{%q, %q, %q, %q}, ", m.Platform, m.Inst, m.Library, m.Pool)
	}
	b.WriteString("},\n\tPools: []wPool{")
	for _, p := range w.Pools {
		fmt.Fprintf(&b, "{%q, %q, %#v}, ", p.ID, p.Rule, p.Members)
	}
	for _, part := range []struct {
		name string
		ss   []wSource
	}{{"Sources", w.Sources}, {"Copies", w.Copies}} {
		fmt.Fprintf(&b, "},\n\t%s: []wSource{\n", part.name)
		for _, s := range part.ss {
			fmt.Fprintf(&b, "\t\t{%q, %q, %v, %q, %q, %q, %q, %q, %d, []wRow{", s.Vendor, s.Platform, s.Upload, s.Lib, s.Cred, s.Release, s.Report, s.Month, s.At)
			for _, r := range s.Rows {
				fmt.Fprintf(&b, "{%q, %q, %q, %d}, ", r.Inst, r.Title, r.Metric, r.Count)
			}
			fmt.Fprintf(&b, "}, %q},\n", s.Body)
		}
		b.WriteString("\t")
	}
	fmt.Fprintf(&b, "},\n\tPrefer: %#v,\n}", w.Prefer)
	return b.String()
}

// metricsOf are the metrics each report carries; TR and JR1 are per title.
var metricsOf = map[string][]string{
	"PR":  {"Total_Item_Requests", "Unique_Item_Requests", "Searches_Platform"},
	"TR":  {"Total_Item_Requests", "Unique_Item_Requests", "Unique_Title_Requests"},
	"JR1": {"Total_Item_Requests"},
}

// gen builds a random world holding the features in want.
func gen(seed uint64, want map[feature]bool) world {
	rng := rand.New(rand.NewPCG(seed, 0x19))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	var w world
	// Municipalities across the reform: kept, renumbered (old Viken,
	// Vestfold og Telemark, Troms og Finnmark codes and their successors)
	// and, with featSplit, old Ålesund.
	munis := []string{"0301", "1103", "1508", "1580", "3005", "3301", "3803", "3905", "5401", "5501", "1806"}
	ids := map[string]bool{}
	newID := func() string {
		for {
			id := fmt.Sprintf("2%06d", rng.IntN(1000000))
			if !ids[id] {
				ids[id] = true
				return id
			}
		}
	}
	if want[featSplit] {
		w.Libs = append(w.Libs, wLib{newID(), "1507"})
	}
	for range 2 + rng.IntN(3) {
		w.Libs = append(w.Libs, wLib{newID(), pick(munis)})
	}
	unregistered := newID()
	platforms := []string{"avis", "film", "leksikon"}[:2+rng.IntN(2)]
	allMonths := []string{"2023-11", "2023-12", "2024-01", "2024-02"}
	start := rng.IntN(2)
	months := allMonths[start : start+2+rng.IntN(2)]

	count := func() int64 { return 1 + rng.Int64N(400) }
	rows := func(report, inst string) []wRow {
		var out []wRow
		titles := []string{""}
		if report != "PR" {
			titles = []string{"Aftenposten", "Dagbladet", "Bergens Tidende"}[:1+rng.IntN(3)]
		}
		for _, t := range titles {
			for _, m := range metricsOf[report] {
				out = append(out, wRow{inst, t, m, count()})
			}
		}
		return out
	}
	restate := func(s wSource) wSource {
		s.Rows = slices.Clone(s.Rows)
		for i := range s.Rows {
			s.Rows[i].Count = count()
		}
		return s
	}
	at := 0
	add := func(s wSource) {
		at++
		s.At = at
		w.Sources = append(w.Sources, s)
		if rng.IntN(4) == 0 { // the vendor restates the month
			r := restate(s)
			r.At = at + 1000
			switch k := rng.IntN(5); {
			case !s.Upload && want[featZero] && k == 0:
				r.Rows, r.Body = nil, "3030"
			case !s.Upload && want[featBroken] && k == 1:
				r.Rows, r.Body = nil, "broken"
			}
			w.Sources = append(w.Sources, r)
		}
	}
	for _, p := range platforms {
		release := pick([]string{"5", "5.1"})
		if want[featPrefer] && rng.IntN(2) == 0 {
			if w.Prefer == nil {
				w.Prefer = map[string]string{}
			}
			w.Prefer[p] = pick([]string{"sushi", "upload", "upload/" + p + "-filer"})
		}
		var pool string
		if want[featPools] && rng.IntN(3) > 0 {
			pool = "p-" + p
			members := []string{}
			for _, l := range w.Libs {
				if rng.IntN(2) == 0 || len(members) == 0 {
					members = append(members, l.ID)
				}
			}
			w.Pools = append(w.Pools, wPool{pool, pick([]string{"population", "equal"}), members})
			w.Maps = append(w.Maps, wMap{p, p + ":ip-range", "", pool})
		}
		for _, m := range months {
			for _, l := range w.Libs {
				if rng.IntN(5) == 0 {
					continue
				}
				report := pick([]string{"PR", "TR"})
				h := wSource{Vendor: p, Platform: p, Lib: l.ID, Cred: l.ID, Release: release, Report: report, Month: m, Rows: rows(report, "")}
				add(h)
				isil := "ISIL:NO-" + l.ID
				if want[featOverlap] && rng.IntN(3) == 0 {
					u := wSource{Vendor: p, Platform: p, Upload: true, Lib: l.ID, Release: release, Report: report, Month: m, Rows: rows(report, isil)}
					add(u)
				}
				if want[featReleases] && rng.IntN(3) == 0 {
					for _, rel := range []string{"5.1", "5", "4"}[rng.IntN(2):] {
						report := "TR"
						if rel == "4" {
							report = "JR1"
						}
						add(wSource{Vendor: p + "-filer", Platform: p, Upload: true, Lib: l.ID, Release: rel, Report: report, Month: m, Rows: rows(report, isil)})
					}
				}
			}
			if pool != "" {
				report := pick([]string{"PR", "TR"})
				c := wSource{Vendor: p, Platform: p, Cred: "konsortium", Release: release, Report: report, Month: m, Rows: rows(report, p+":ip-range")}
				c.Rows = append(c.Rows, rows(report, p+":ukjent")...) // an id nobody mapped
				add(c)
			}
			if want[featUnregistered] && rng.IntN(2) == 0 {
				add(wSource{Vendor: p, Platform: p, Upload: true, Lib: unregistered, Release: release, Report: "PR", Month: m,
					Rows: rows("PR", "ISIL:NO-"+unregistered)})
			}
		}
	}
	// A source a newer one of the same cell replaced (a restatement, an
	// upload after the harvest) is stale: a copy of it is featCopyStale,
	// or featCopyZeroed when what replaced it is a 3030.
	newest := map[string]wSource{}
	cellOf := func(s wSource) string {
		return strings.Join([]string{s.Platform, s.Report, s.Release, s.Lib, s.Month}, "|")
	}
	for _, s := range w.Sources {
		if s.At > newest[cellOf(s)].At && s.Body != "broken" {
			newest[cellOf(s)] = s
		}
	}
	for i, s := range w.Sources {
		n := newest[cellOf(s)]
		stale := s.At < n.At
		kind := map[bool]feature{true: featCopyUpload, false: featCopyHarvest}[s.Upload]
		if s.Body != "" || !want[kind] || stale && !want[featCopyStale] || stale && n.Body == "3030" && !want[featCopyZeroed] || rng.IntN(4) > 0 {
			continue
		}
		s.Vendor += "-2"
		s.At = 2000 + i
		w.Copies = append(w.Copies, s)
	}
	return w
}

// knownWorlds are the minimal worlds of the findings: each must hold its
// invariants once the finding is fixed.
var knownWorlds = []struct {
	name    string
	feature feature
	w       world
}{
	{"F1 old Ålesund serves 58,509 + 9,357", featSplit, world{
		Libs:  []wLib{{"2150700", "1507"}, {"2030100", "0301"}},
		Maps:  []wMap{{"avis", "avis:ip-range", "", "p1"}},
		Pools: []wPool{{"p1", "population", []string{"2150700", "2030100"}}},
		Sources: []wSource{
			{"avis", "avis", false, "2150700", "2150700", "5.1", "PR", "2024-01", 1, []wRow{{"", "", "Total_Item_Requests", 100}}, ""},
			{"avis", "avis", false, "", "konsortium", "5.1", "PR", "2024-01", 2, []wRow{{"avis:ip-range", "", "Total_Item_Requests", 60}}, ""},
		},
	}},
	{"F2 an R5 upload after the R5.1 of the same month", featReleases, world{
		Libs: []wLib{{"2030100", "0301"}},
		Sources: []wSource{
			{"avis-filer", "avis", true, "2030100", "", "5.1", "TR", "2024-01", 1, []wRow{{"ISIL:NO-2030100", "Aftenposten", "Total_Item_Requests", 50}}, ""},
			{"avis-filer", "avis", true, "2030100", "", "5", "TR", "2024-01", 2, []wRow{{"ISIL:NO-2030100", "Aftenposten", "Total_Item_Requests", 300}}, ""},
		},
	}},
	{"F3 the same file uploaded under a second vendor id", featCopyUpload, world{
		Libs:    []wLib{{"2030100", "0301"}},
		Sources: []wSource{{"avis", "avis", true, "2030100", "", "5", "PR", "2024-01", 1, []wRow{{"ISIL:NO-2030100", "", "Total_Item_Requests", 20}}, ""}},
		Copies:  []wSource{{"avis-2", "avis", true, "2030100", "", "5", "PR", "2024-01", 2, []wRow{{"ISIL:NO-2030100", "", "Total_Item_Requests", 20}}, ""}},
	}},
	{"F4 the same harvest under a second platform id", featCopyHarvest, world{
		Libs:    []wLib{{"2030100", "0301"}},
		Sources: []wSource{{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 1, []wRow{{"", "", "Total_Item_Requests", 20}}, ""}},
		Copies:  []wSource{{"avis-2", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 2, []wRow{{"", "", "Total_Item_Requests", 20}}, ""}},
	}},
	{"F5 a harvest and an upload of the same cell", featOverlap, world{
		Libs: []wLib{{"2030100", "0301"}},
		Sources: []wSource{
			{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 1, []wRow{{"", "", "Total_Item_Requests", 20}}, ""},
			{"avis", "avis", true, "2030100", "", "5", "PR", "2024-01", 2, []wRow{{"ISIL:NO-2030100", "", "Total_Item_Requests", 25}}, ""},
		},
	}},
	{"F6 an ISIL not in the register", featUnregistered, world{
		Libs:    []wLib{{"2030100", "0301"}},
		Sources: []wSource{{"avis", "avis", true, "2999999", "", "5", "PR", "2024-01", 1, []wRow{{"ISIL:NO-2999999", "", "Total_Item_Requests", 9}}, ""}},
	}},
	{"F7 a late copy of a restated month", featCopyStale, world{
		Libs: []wLib{{"2030100", "0301"}},
		Sources: []wSource{
			{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 1, []wRow{{"", "", "Total_Item_Requests", 20}}, ""},
			{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 2, []wRow{{"", "", "Total_Item_Requests", 25}}, ""},
		},
		Copies: []wSource{{"avis-2", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 3, []wRow{{"", "", "Total_Item_Requests", 20}}, ""}},
	}},
	{"F8 pooled titles stay the pool's", featTitles, world{
		Libs:  []wLib{{"2030100", "0301"}, {"2300500", "3005"}},
		Maps:  []wMap{{"avis", "avis:ip-range", "", "p1"}},
		Pools: []wPool{{"p1", "equal", []string{"2030100", "2300500"}}},
		Sources: []wSource{
			{"avis", "avis", false, "2030100", "2030100", "5", "TR", "2023-12", 1, []wRow{{"", "Aftenposten", "Total_Item_Requests", 10}}, ""},
			{"avis-filer", "avis", true, "2030100", "", "4", "JR1", "2023-12", 2, []wRow{{"ISIL:NO-2030100", "Aftenposten", "Total_Item_Requests", 999}}, ""},
			{"avis", "avis", false, "", "konsortium", "5", "TR", "2023-12", 3, []wRow{{"avis:ip-range", "Aftenposten", "Total_Item_Requests", 60}}, ""},
		},
	}},
	{"F9 a late copy of a month the vendor restated to 3030", featCopyZeroed, world{
		Libs: []wLib{{"2030100", "0301"}},
		Sources: []wSource{
			{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 1, []wRow{{"", "", "Total_Item_Requests", 20}}, ""},
			{"avis", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 2, nil, "3030"},
		},
		Copies: []wSource{{"avis-2", "avis", false, "2030100", "2030100", "5", "PR", "2024-01", 3, []wRow{{"", "", "Total_Item_Requests", 20}}, ""}},
	}},
}

func TestWorldProperty(t *testing.T) {
	first := *worldSeed
	if s, err := strconv.ParseUint(os.Getenv("BIBSTAT_WORLD_SEED"), 10, 64); err == nil {
		first = s
	}
	want := map[feature]bool{}
	for _, f := range features {
		if why := unfixedWhy(f); why != "" {
			t.Logf("generated worlds leave out %s: %s", f, why)
			continue
		}
		want[f] = true
	}
	g := newGeo(t)
	n := uint64(*worldN)
	if testing.Short() {
		n = 1
	}
	for s := first; s < first+n; s++ {
		w := gen(s, want)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			if msgs := check(t, g, w); len(msgs) > 0 {
				// The world is long: it goes to a file, to be shrunk by hand into knownWorlds.
				path := filepath.Join(os.TempDir(), fmt.Sprintf("bibstat-world-%d.go.txt", s))
				if err := os.WriteFile(path, []byte(w.literal()), 0o644); err != nil {
					t.Log(err)
				}
				t.Errorf("world of seed %d breaks %d invariants (the world is in %s):\n%s", s, len(msgs), path, strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestKnownWorlds(t *testing.T) {
	g := newGeo(t)
	for _, k := range knownWorlds {
		t.Run(k.name, func(t *testing.T) {
			if why := unfixedWhy(k.feature); why != "" {
				t.Skip(why)
			}
			if msgs := check(t, g, k.w); len(msgs) > 0 {
				t.Errorf("%d invariants broken:\n%s", len(msgs), strings.Join(msgs, "\n"))
			}
		})
	}
}

// check builds a warehouse from w, compares its marts with the model and
// with themselves, then adds w.Copies and expects not one cell to change.
func check(t *testing.T, g geo, w world) []string {
	t.Helper()
	ctx := context.Background()
	st := newStore(t, w)
	wh, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), transform.Options{Threads: 1, PreferSource: w.Prefer}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if _, err := wh.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	msgs = append(msgs, compareModel(t, wh.DB, g, w)...)
	msgs = append(msgs, selfConsistent(t, wh.DB)...)
	msgs = append(msgs, diff("mart_sources.counted", readCells(t, wh.DB, sourcesQuery), runModel(g, w).sources, 0)...)
	before := snapshot(t, wh.DB)
	if len(w.Copies) > 0 {
		for _, s := range w.Copies {
			archiveSource(t, st, s)
		}
		if _, err := wh.Update(ctx, st); err != nil {
			t.Fatal(err)
		}
		var changed []string
		for tb, sum := range snapshot(t, wh.DB) {
			if before[tb] != sum {
				changed = append(changed, tb)
			}
		}
		// A copy is one more source of its cells, never a second one counted.
		twice := readCells(t, wh.DB, `SELECT concat_ws('|', target_kind, target_id, institution_id, platform, report_id, `+month+`),
			count(*) FILTER (WHERE counted) FROM mart_sources GROUP BY ALL HAVING count(*) FILTER (WHERE counted) > 1`)
		msgs = append(msgs, diffOf("mart_sources cells counted twice", twice, cells{}, 0, "the rule")...)
		if len(changed) > 0 {
			slices.Sort(changed)
			msgs = append(msgs, "identical copies under a second vendor id changed "+strings.Join(changed, ", "))
			for _, d := range compareModel(t, wh.DB, g, w) {
				msgs = append(msgs, "after the copies: "+d)
			}
		}
	}
	msgs = append(msgs, registerLater(t, wh, st, g, w)...)
	// A rebuild from the store alone gives what the updates gave.
	path := filepath.Join(t.TempDir(), "rebuilt.duckdb")
	if _, err := transform.Rebuild(ctx, path, transform.Options{Threads: 1, PreferSource: w.Prefer}, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	rb, err := transform.Open(ctx, path, transform.Options{Threads: 1, PreferSource: w.Prefer}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	inc := snapshot(t, wh.DB, "mart_sources")
	for tb, sum := range snapshot(t, rb.DB, "mart_sources") {
		if inc[tb] != sum {
			msgs = append(msgs, fmt.Sprintf("rebuilt %s differs from the updated one: %s, updated %s", tb, sum, inc[tb]))
		}
	}
	return msgs
}

// registerLater registers the ids the register lacked (issue 19 item 4):
// their usage moves from unattributed to the libraries without a harvest,
// and every table says what the model of the new register says.
func registerLater(t *testing.T, wh *transform.Warehouse, st store.Store, g geo, w world) []string {
	known := map[string]bool{}
	for _, l := range w.Libs {
		known[l.ID] = true
	}
	registered := len(w.Libs)
	w.Libs = slices.Clone(w.Libs)
	for _, s := range w.Sources {
		if s.Lib != "" && !known[s.Lib] {
			known[s.Lib] = true
			w.Libs = append(w.Libs, wLib{s.Lib, "1103"})
		}
	}
	if len(w.Libs) == registered {
		return nil
	}
	putRegister(t, st, w)
	if _, err := wh.Update(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, d := range compareModel(t, wh.DB, g, w) {
		msgs = append(msgs, "after registering the unregistered ids: "+d)
	}
	return msgs
}

// cells is one table read as key → value.
type cells map[string]float64

// readCells runs q, which selects a key and a number.
func readCells(t *testing.T, db *sql.DB, q string) cells {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := cells{}
	for rows.Next() {
		var k string
		var v float64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[k] += v
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// diff lists where got and want disagree, at most a few lines per table.
func diff(name string, got, want cells, tol float64) []string {
	return diffOf(name, got, want, tol, "model")
}

// diffOf is diff naming whose figures want holds.
func diffOf(name string, got, want cells, tol float64, whose string) []string {
	var out []string
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		g, gok := got[k]
		m, mok := want[k]
		switch {
		case !gok:
			out = append(out, fmt.Sprintf("%s %s: missing, %s says %v", name, k, whose, m))
		case !mok:
			out = append(out, fmt.Sprintf("%s %s: %v, %s has no such cell", name, k, g, whose))
		case math.Abs(g-m) > tol:
			out = append(out, fmt.Sprintf("%s %s: %v, %s says %v", name, k, g, whose, m))
		}
	}
	if len(out) > 6 {
		out = append(out[:6], fmt.Sprintf("%s: … and %d more", name, len(out)-6))
	}
	return out
}

const tol = 1e-4 // pooled figures are rounded to 6 decimals per row

// month is a mart's month column as the model writes it.
const month = `strftime(month, '%Y-%m')`

// compareModel checks every mart the model has an opinion on.
func compareModel(t *testing.T, db *sql.DB, g geo, w world) []string {
	m := runModel(g, w)
	var out []string
	q := func(name, sql string, want cells) {
		out = append(out, diff(name, readCells(t, db, sql), want, tol)...)
	}
	q("mart_library_month.count", `SELECT concat_ws('|', library_id, platform, metric_type, `+month+`), sum(count) FROM mart_library_month GROUP BY ALL HAVING sum(count) <> 0`, m.direct)
	q("mart_library_month.pooled", `SELECT concat_ws('|', library_id, platform, metric_type, `+month+`), sum(pooled) FROM mart_library_month GROUP BY ALL HAVING sum(pooled) <> 0`, m.pooled)
	q("mart_county_month", `SELECT concat_ws('|', county, platform, metric_type, `+month+`), sum(total) FROM mart_county_month GROUP BY ALL`, m.county)
	q("mart_county_month_current", `SELECT concat_ws('|', county, platform, metric_type, `+month+`), sum(total) FROM mart_county_month_current GROUP BY ALL`, m.countyNow)
	for _, col := range []string{"attributed", "pooled", "unattributed", "total"} {
		q("mart_national_month."+col, `SELECT concat_ws('|', platform, metric_type, `+month+`), sum(`+col+`) FROM mart_national_month GROUP BY ALL HAVING sum(`+col+`) <> 0`, m.national[col])
	}
	q("mart_unattributed", `SELECT concat_ws('|', institution_id, platform, metric_type, `+month+`), sum(count) FROM mart_unattributed GROUP BY ALL`, m.unattributed)
	q("mart_pool_allocation", `SELECT concat_ws('|', pool_id, library_id, platform, metric_type, `+month+`), sum(allocated) FROM mart_pool_allocation GROUP BY ALL`, m.allocated)
	// A library's population, wherever a table shows it.
	// Every year with usage has its row; any other year, the same figure.
	pops := readCells(t, db, `SELECT concat_ws('|', library_id, year), population FROM library_population`)
	for k, v := range pops {
		lib, _, _ := strings.Cut(k, "|")
		if want := m.population[lib]; v != want {
			out = append(out, fmt.Sprintf("library_population %s: %v, model says %v", k, v, want))
		}
	}
	for lib, v := range m.population {
		for y := range m.years {
			if _, ok := pops[lib+"|"+y]; !ok {
				out = append(out, fmt.Sprintf("library_population %s|%s: missing, model says %v", lib, y, v))
			}
		}
	}
	q("pool_shares.basis", `SELECT concat_ws('|', library_id, year), max(basis) FROM pool_shares WHERE rule = 'population' GROUP BY ALL`, m.poolBasis)
	q("mart_pool_allocation.basis", `SELECT concat_ws('|', library_id, year(month)), max(basis) FROM mart_pool_allocation WHERE rule = 'population' GROUP BY ALL`, m.poolBasis)
	q("mart_per_1000.population", `SELECT concat_ws('|', level, area, platform, metric_type, `+month+`), max(population) FROM mart_per_1000 GROUP BY ALL`, m.per1000Pop)
	if unfixedWhy(featTitles) != "" {
		return out
	}
	if !hasTable(t, db, "mart_title_month") {
		return append(out, "mart_title_month: no such table")
	}
	{
		q("mart_title_month", `SELECT concat_ws('|', target_kind, CASE WHEN target_kind = 'unattributed' THEN '' ELSE target_id END, platform, title, metric_type, `+month+`), sum(count) FROM mart_title_month GROUP BY ALL`, m.titles)
	}
	return out
}

// sourcesQuery reads mart_sources as the model writes it: an entity is
// a library, a pool or, unattributed, the id the vendor used.
const sourcesQuery = `SELECT concat_ws('|', target_kind, CASE WHEN target_kind = 'unattributed' THEN institution_id ELSE target_id END,
	platform, report_id, ` + month + `, raw_key), counted::INTEGER FROM mart_sources`

// selfConsistent checks the sums the marts owe each other, whatever the
// model says: national = Σ counties (either structure) = Σ libraries +
// unattributed, for every platform, metric and month; per 1,000 is total
// over population.
func selfConsistent(t *testing.T, db *sql.DB) []string {
	key := `concat_ws('|', platform, metric_type, ` + month + `)`
	national := readCells(t, db, `SELECT `+key+`, sum(total) FROM mart_national_month GROUP BY ALL`)
	libs := readCells(t, db, `SELECT `+key+`, sum(total) FROM mart_library_month GROUP BY ALL`)
	for k, v := range readCells(t, db, `SELECT `+key+`, sum(count) FROM mart_unattributed GROUP BY ALL`) {
		libs[k] += v
	}
	var out []string
	out = append(out, diffOf("Σ libraries + unattributed", libs, national, 1e-3, "mart_national_month")...)
	for _, tb := range []string{"mart_county_month", "mart_county_month_current"} {
		counties := readCells(t, db, `SELECT `+key+`, sum(total) FROM `+tb+` GROUP BY ALL`)
		for k, v := range readCells(t, db, `SELECT `+key+`, sum(count) FROM mart_unattributed GROUP BY ALL`) {
			counties[k] += v
		}
		out = append(out, diffOf("Σ "+tb+" + unattributed", counties, national, 1e-3, "mart_national_month")...)
	}
	bad := readCells(t, db, `SELECT concat_ws('|', level, area, platform, metric_type, `+month+`), per_1000 - total * 1000 / population
		FROM mart_per_1000 WHERE abs(per_1000 - total * 1000 / population) > 1e-5`)
	return append(out, diffOf("mart_per_1000 per_1000 - total×1000/population", bad, cells{}, 0, "arithmetic")...)
}

func hasTable(t *testing.T, db *sql.DB, name string) bool {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE table_name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// snapshot digests every usage table, to tell whether one cell changed.
// Tables that list sources (mart_sources) change by design when a copy
// arrives: it is one more source set aside.
func snapshot(t *testing.T, db *sql.DB, also ...string) map[string]string {
	out := map[string]string{}
	for _, tb := range append(append(slices.Clone(transform.Marts), "library_population", "pool_shares"), also...) {
		if strings.Contains(tb, "source") && !slices.Contains(also, tb) {
			continue
		}
		var s string
		if err := db.QueryRow(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)), '') FROM ` + tb + ` t`).Scan(&s); err != nil {
			t.Fatalf("snapshot %s: %v", tb, err)
		}
		out[tb] = s
	}
	return out
}

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

// newStore archives the register and w.Sources as ingest leaves them.
func newStore(t *testing.T, w world) store.Store {
	st := store.NewMemory()
	putRegister(t, st, w)
	for _, s := range w.Sources {
		archiveSource(t, st, s)
	}
	return st
}

// putRegister archives w's libraries, institution mapping and pools.
func putRegister(t *testing.T, st store.Store, w world) {
	var libs, maps, pools strings.Builder
	libs.WriteString("bibnr,kommnr,name\n")
	for _, l := range w.Libs {
		fmt.Fprintf(&libs, "%s,%s,Bibliotek %s\n", l.ID, l.Muni, l.ID)
	}
	maps.WriteString("platform,id_kind,id_value,library_id,pool_id\n")
	for _, m := range w.Maps {
		fmt.Fprintf(&maps, "%s,institution_id,%s,%s,%s\n", m.Platform, m.Inst, m.Library, m.Pool)
	}
	pools.WriteString("pool_id,name,rule,metric_type,members\n")
	for _, p := range w.Pools {
		fmt.Fprintf(&pools, "%s,Pool %s,%s,,%s\n", p.ID, p.ID, p.Rule, strings.Join(p.Members, " "))
	}
	put(t, st, bibstat.LibrariesCSVKey, []byte(libs.String()))
	put(t, st, bibstat.InstitutionsKey, []byte(maps.String()))
	put(t, st, bibstat.PoolsKey, []byte(pools.String()))
}

func put(t *testing.T, st store.Store, key string, b []byte) {
	t.Helper()
	if err := st.Put(context.Background(), key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

func (s wSource) at() time.Time {
	return time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.At) * time.Hour)
}

// object is s's unit key (what mart_sources calls raw_key), for an
// upload the key of its file, and its bytes.
func (s wSource) object() (key, file string, raw []byte) {
	raw = fmt.Appendf(nil, "%s %s %s %s %s %v", s.Platform, s.Lib, s.Release, s.Report, s.Month, s.Rows)
	switch s.Body {
	case "3030":
		raw = []byte(`{"Code":3030,"Severity":"Info","Message":"No Usage Available for Requested Dates"}`)
	case "broken":
		raw = []byte(`{"Report_Header":`)
	}
	mon, _ := bibstat.ParseMonth(s.Month)
	report := bibstat.ReportID(strings.ToLower(s.Report))
	if s.Upload {
		sum := sha256.Sum256(raw)
		name := s.at().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:4]) + ".tsv"
		return bibstat.UploadUnitPrefix(s.Vendor, string(report), bibstat.LibraryID(s.Lib), mon) + name, bibstat.UploadFileKey(s.Vendor, name), raw
	}
	return bibstat.Unit{Platform: s.Vendor, Credential: s.Cred, Report: report, Month: mon}.RawKey(s.at(), "json"), "", raw
}

// archiveSource stores s's raw object (the same bytes for an identical
// copy), its parsed rows and its sidecar: a SUSHI harvest under its unit,
// an upload as one unit of an archived file.
func archiveSource(t *testing.T, st store.Store, s wSource) {
	t.Helper()
	mon, err := bibstat.ParseMonth(s.Month)
	if err != nil {
		t.Fatal(err)
	}
	key, file, raw := s.object()
	sum := sha256.Sum256(raw)
	side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: s.Vendor, Credential: s.Cred, Library: bibstat.LibraryID(s.Lib),
		Report: bibstat.ReportID(strings.ToLower(s.Report)), Month: s.Month, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(raw)),
		HarvestedAt: s.at(), State: bibstat.StateOK, Release: s.Release, Rows: int64(len(s.Rows)), ParserVersion: schemas.Version}
	if s.Upload {
		side.Source, side.Platform, side.Credential = "upload", s.Platform, ""
		side.Upload = &bibstat.UploadInfo{File: file, Name: "usage.tsv", By: "world"}
		rec := side
		rec.Key, rec.ParserVersion = file, 0
		put(t, st, file, raw)
		put(t, st, file+bibstat.UploadRecordSuffix, encode(t, rec))
	} else {
		put(t, st, key, raw)
	}
	if s.Body != "" { // no parsed rows: the load reads the body itself
		if s.Body == "3030" {
			side.State = bibstat.StateZero
		}
		put(t, st, bibstat.SidecarKey(side.Key), encode(t, side))
		return
	}
	side.ParsedKey = bibstat.ParsedKey(side.Key, schemas.Version)
	var pq bytes.Buffer
	pw, err := schemas.NewParquetWriter(&pq)
	if err != nil {
		t.Fatal(err)
	}
	b := schemas.NewBatcher(nil, 0, pw.Write)
	for _, r := range s.Rows {
		row := schemas.Row{Release: s.Release, ReportID: s.Report, InstitutionID: r.Inst, Platform: s.Platform, Title: r.Title,
			DataType: "Newspaper_or_Newsletter", AccessMethod: "Regular", MetricType: r.Metric, SourceKey: side.Key, Month: mon.First(), Count: r.Count}
		if err := b.Add(&row); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	b.Release()
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	put(t, st, side.ParsedKey, pq.Bytes())
	put(t, st, bibstat.SidecarKey(side.Key), encode(t, side))
}

func encode(t *testing.T, s bibstat.Sidecar) []byte {
	b, err := bibstat.EncodeSidecar(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
