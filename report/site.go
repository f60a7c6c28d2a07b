package report

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bibliotek24/bibstat"
)

//go:embed assets/*.js assets/*.css assets/*.txt
var assets embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// Site writes the static report site from a warehouse.
type Site struct {
	DB   *sql.DB
	Out  string // directory to write into
	Lang Lang   // "" means "nb"
	// DataTime, when set, stands for the time the data was last updated
	// (tests); nil means the warehouse's newest load (dataTime).
	DataTime func() time.Time
	// Platforms names the platforms (config id → display name); a platform
	// without a name is shown by its id.
	Platforms map[string]string
	// Harvests is what the harvest ledger knows, for each page's coverage
	// line; nil when the ledger is not at hand (the pages then say so).
	Harvests []Harvest

	libUsage    map[string][]usageRow    // per library, read once by Build
	libTop      map[string][][3]string   // per library, read once by Build
	countyUsage map[string][]usageRow    // per county, read once by Build
	libPop      map[string]map[int]int64 // per library and year, read once by Build
	// counterCache is per scope kind and id its COUNTER download's rows,
	// read once by Build; a kind is absent when its mart has no data_type.
	counterCache map[string]map[string][]counterRow
	stamp        time.Time      // dataTime, read once by Build
	comparison   comparisonData // vendor against logins, read once by Build
	written      atomic.Int64   // files Build wrote, for Summary.Written
	pages        atomic.Int64   // pages Build wrote or found unchanged, for Summary.Pages
	frags        *fragments     // the downloads' rows per library, made once by Build
	record       *downloadRecord
}

// Harvest is the state of one harvest unit, as the ledger has it.
type Harvest struct {
	Platform string
	Library  string
	Month    bibstat.Month
	State    bibstat.State
	At       time.Time // when it was last attempted
}

// Summary counts what Build wrote.
type Summary struct {
	Pages int
	// Written counts the files (pages, downloads, assets) actually
	// written: a file that already holds what Build made is left alone.
	Written int
	Index   string // path of index.html
}

type libraryRow struct {
	ID, ISIL, Name, Municipality, County string
	School                               bool  // an upper-secondary school: counted by pupils
	Population                           int64 // inhabitants, or pupils for a school, in the latest year
	Total                                string
	HasData                              bool
}

type countyRow struct {
	ID, Name string
	HasData  bool
}

// page is what every template gets.
type page struct {
	M         messages
	Title     string
	Root      string // relative path to the site root: "" or "../"
	Generated string

	Libraries  []libraryRow
	Counties   []countyRow
	Agreements []agreementRow
	HasNation  bool

	Intro     string
	NoUsage   string   // one sentence when the scope has no usage at all
	Coverage  []string // the coverage lines
	Charts    []*table // each followed by its table
	Tables    []*table // tables without a chart
	Downloads []download

	Agreement  *agreementView
	Comparison *comparisonView
	Glossary   [][3]string // label, COUNTER name, explanation
}

// TrendLabel is the trend metric's label, for the index's heading.
func (p page) TrendLabel() string { return p.M.metric(trendMetric) }

// Int formats a whole number in the page's language.
func (p page) Int(n int64) string { return p.M.formatInt(n) }

// Build writes the index, the nation, every county and library, every
// agreement, the glossary and the accessibility statement, their
// downloads, and the assets.
func (s *Site) Build(ctx context.Context) (Summary, error) {
	lang := s.Lang
	if lang == "" {
		lang = "nb"
	}
	m, ok := catalog[lang]
	if !ok {
		return Summary{}, fmt.Errorf("report: unknown language %q (want nb, nn or en)", lang)
	}
	if err := removeTemporaries(s.Out); err != nil {
		return Summary{}, err
	}
	s.written.Store(0)
	s.pages.Store(0)
	defer func() { s.frags, s.record = nil, nil }() // hundreds of megabytes: not kept past the build
	err := s.writeAssets()
	if err != nil {
		return Summary{}, err
	}
	if s.stamp, err = s.dataTime(ctx); err != nil {
		return Summary{}, err
	}
	if err := s.prefetchLibraries(ctx, m); err != nil {
		return Summary{}, err
	}
	libs, err := s.libraries(ctx, m)
	if err != nil {
		return Summary{}, err
	}
	counties, err := s.counties(ctx, libs)
	if err != nil {
		return Summary{}, err
	}
	agrs, err := s.agreements(ctx, m)
	if err != nil {
		return Summary{}, err
	}
	s.frags = newFragments(fragmentUses(libs, counties))
	s.record = openDownloadRecord(s.Out, m, s.Platforms)

	emit := func(rel, tpl string, p page) error {
		if err := s.render(filepath.Join(s.Out, filepath.FromSlash(rel)), tpl, p); err != nil {
			return err
		}
		s.pages.Add(1)
		return nil
	}
	common := page{M: m}
	if !s.stamp.IsZero() {
		common.Generated = m.formatTime(s.stamp)
	}
	err = s.buildPages(ctx, common, libs, counties, agrs, emit)
	if err == nil {
		err = s.record.save()
	}
	return Summary{Pages: int(s.pages.Load()), Written: int(s.written.Load()), Index: filepath.Join(s.Out, "index.html")}, err
}

// buildPages writes every page with emit, the many county, library and
// agreement pages in parallel: rendering them (and their downloads) is
// most of a build.
func (s *Site) buildPages(ctx context.Context, common page, libs []libraryRow, counties []countyRow, agrs []agreementRow, emit emitFunc) error {
	m := common.M
	idx := common
	idx.Title, idx.Libraries, idx.Counties, idx.Agreements = m.SiteTitle, libs, counties, agrs
	idx.HasNation = len(s.libUsage) > 0
	if err := emit("index.html", "index.html", idx); err != nil {
		return err
	}
	if err := s.staticPages(common, emit); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	g.Go(func() error {
		nation := common
		nation.Title, nation.Intro = m.National, m.NationalIntro
		nsc := Scope{Kind: "nation", Name: m.National, FileStem: "nasjonalt-bruk", Directory: "."}
		return s.usagePage(gctx, nation, nsc, libs, s.comparisonLinks(m, ""), "nasjonalt.html", emit)
	})
	for _, c := range counties {
		g.Go(func() error { return s.countyPage(gctx, common, c, libs, emit) })
	}
	for _, lib := range libs {
		g.Go(func() error { return s.libraryPage(gctx, common, lib, emit) })
	}
	for _, job := range s.comparisonJobs(common, libs, emit) {
		g.Go(job)
	}
	for _, a := range agrs {
		g.Go(func() error {
			p := common
			p.Title, p.Root, p.Agreement = a.Name, "../", a.view
			p.Charts, p.Tables, p.Downloads = a.view.charts, a.view.tables, a.view.downloads
			if err := s.writeAgreementDownloads(m, a); err != nil {
				return err
			}
			return emit("avtale/"+a.ID+".html", "agreement.html", p)
		})
	}
	return g.Wait()
}

// fragmentUses is how many downloads hold each library's rows: its own,
// its county's (when the county has a page) and the nation's.
func fragmentUses(libs []libraryRow, counties []countyRow) map[string]int {
	paged := map[string]bool{}
	for _, c := range counties {
		paged[c.ID] = true
	}
	uses := map[string]int{}
	for _, l := range libs {
		uses[runKey(l)] = 2
		if paged[l.County] {
			uses[runKey(l)]++
		}
	}
	return uses
}

// emitFunc writes page p with template tpl at rel under the site.
type emitFunc func(rel, tpl string, p page) error

// staticPages writes the glossary and the accessibility statement.
func (s *Site) staticPages(common page, emit emitFunc) error {
	m := common.M
	g := common
	g.Title = m.Glossary
	for _, mt := range glossaryMetrics {
		t := m.Metrics[mt]
		g.Glossary = append(g.Glossary, [3]string{t[0], mt, t[1]})
	}
	if err := emit("ordliste.html", "glossary.html", g); err != nil {
		return err
	}
	a := common
	a.Title = m.Accessibility
	return emit("tilgjengelighet.html", "accessibility.html", a)
}

// countyPage writes a county's usage page with its libraries compared.
func (s *Site) countyPage(ctx context.Context, common page, c countyRow, libs []libraryRow, emit emitFunc) error {
	m := common.M
	p := common
	p.Title, p.Root, p.Intro = c.Name, "../", m.CountyIntro
	sc := Scope{Kind: "county", ID: c.ID, Name: c.Name, FileStem: "fylke-" + c.ID + "-bruk", Directory: "fylke"}
	var members []libraryRow
	for _, l := range libs {
		if l.County == c.ID {
			members = append(members, l)
		}
	}
	return s.usagePage(ctx, p, sc, members, nil, "fylke/"+c.ID+".html", emit)
}

// libraryPage writes a library's usage page.
func (s *Site) libraryPage(ctx context.Context, common page, lib libraryRow, emit emitFunc) error {
	m := common.M
	p := common
	p.Title, p.Root = lib.Name, "../"
	p.Intro = fmt.Sprintf(m.LibraryIntro, lib.ID, lib.ISIL, lib.Municipality)
	sc := Scope{Kind: "library", ID: lib.ID, Name: lib.Name, ISIL: lib.ISIL, FileStem: lib.ID + "-bruk", Directory: "bibliotek"}
	return s.usagePage(ctx, p, sc, []libraryRow{lib}, s.comparisonLinks(m, lib.ID), "bibliotek/"+lib.ID+".html", emit)
}

// usagePage writes a scope's usage page at rel, unless it is as the last
// build made it from the same inputs.
func (s *Site) usagePage(ctx context.Context, p page, sc Scope, libs []libraryRow, links []*table, rel string, emit emitFunc) error {
	digest, unchanged, err := s.fillUsage(ctx, &p, sc, libs, links, rel, "usage.html")
	if err != nil || unchanged {
		s.pages.Add(int64(boolIndex(unchanged)))
		return err
	}
	if err := emit(rel, "usage.html", p); err != nil {
		return err
	}
	if digest == "" {
		return nil
	}
	return s.pageMade(rel, digest)
}

// created is the COUNTER files' Created: the data's time, or for data
// of no known time (no loaded units) the build's.
func (s *Site) created() time.Time {
	if s.stamp.IsZero() {
		return time.Now()
	}
	return s.stamp
}

// platform is a platform's display name.
func (s *Site) platform(id string) string {
	if n := s.Platforms[id]; n != "" {
		return n
	}
	return id
}

// pageTemplates are the page templates, each with the layout and parts it
// fills, parsed once: every page defines its own "content".
var pageTemplates = func() map[string]*template.Template {
	files, _ := fs.Glob(templateFiles, "templates/*.html") // the pattern is valid
	out := map[string]*template.Template{}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" || name == "parts.html" {
			continue
		}
		out[name] = template.Must(template.New(name).Funcs(template.FuncMap{"lower": strings.ToLower}).
			ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", f))
	}
	return out
}()

func (s *Site) render(path, name string, p page) error {
	for _, c := range p.Charts {
		c.Note, c.Empty = p.M.ChartNumbersIn, p.M.NoData
		if err := c.render(); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return s.writeFile(path, buf.Bytes())
}

func (s *Site) writeAssets() error {
	return fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		return s.writeFile(filepath.Join(s.Out, filepath.FromSlash(p)), b)
	})
}

// writeFile writes b at path unless the file there holds b already: a
// rebuild leaves an unchanged file, and its modification time, alone, so
// caches and mirrors see only what changed.
func (s *Site) writeFile(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := writeFileAtomic(path, b); err != nil {
		return err
	}
	s.written.Add(1)
	return nil
}

// removeTemporaries deletes the temporary files (.tmp-*) that a Build killed
// mid-write left in out, which a web server would otherwise serve. No other
// writer can be using them: Build holds the warehouse, which DuckDB lets one
// process at a time open for writing.
func removeTemporaries(out string) error {
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-") {
			return os.Remove(p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// writeFileAtomic writes via a temporary file and rename, so a reader never
// sees half a page.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := renameTemp(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createTemp starts a temporary file beside path, for renameTemp to put
// there; removeTemporaries finds the ones a killed build left.
func createTemp(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(filepath.Dir(path), ".tmp-*")
}

// renameTemp closes tmp and puts it at path, readable by the web server.
func renameTemp(tmp *os.File, path string) error {
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
