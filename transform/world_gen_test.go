package transform_test

// The worlds of world_property_test.go: what one holds, the generator of
// random ones, and the object store it becomes, as ingest leaves it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

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
	rows := make([]schemas.Row, 0, len(s.Rows))
	for _, r := range s.Rows {
		rows = append(rows, schemas.Row{Release: s.Release, ReportID: s.Report, InstitutionID: r.Inst, Platform: s.Platform, Title: r.Title,
			DataType: "Newspaper_or_Newsletter", AccessMethod: "Regular", MetricType: r.Metric, SourceKey: side.Key, Month: mon.First(), Count: r.Count})
	}
	pq, err := schemas.ParquetOf(rows)
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, side.ParsedKey, pq)
	put(t, st, bibstat.SidecarKey(side.Key), encode(t, side))
}

func encode(t *testing.T, s bibstat.Sidecar) []byte {
	b, err := bibstat.EncodeSidecar(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
