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
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
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
	// Now stamps the pages; nil means time.Now.
	Now func() time.Time

	libUsage map[string][]usageRow    // per library, read once by Build
	libTop   map[string][][3]string   // per library, read once by Build
	libPop   map[string]map[int]int64 // per library and year, read once by Build
}

// Summary counts what Build wrote.
type Summary struct {
	Pages int
	Index string // path of index.html
}

type libraryRow struct {
	ID, ISIL, Name, Municipality, County string
	Population, Total                    string
}

type countyRow struct{ ID, Name string }

// page is what every template gets.
type page struct {
	M         messages
	Title     string
	Root      string // relative path to the site root: "" or "../"
	Generated string

	Libraries  []libraryRow
	Counties   []countyRow
	Agreements []agreementRow

	Library   libraryRow
	County    countyRow
	Intro     string
	Charts    []*table
	YoYYear   int
	YoY       []yoyRow
	PerCapita perCapita
	Top       [][3]string
	Downloads []download

	Agreement *agreementView
}

// Build writes the index, the nation, every county and library, every
// agreement, their downloads, and the assets.
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
	if err := writeAssets(s.Out); err != nil {
		return Summary{}, err
	}
	common := page{M: m, Generated: s.now().Format("2006-01-02 15:04")}
	libs, err := s.libraries(ctx, m)
	if err != nil {
		return Summary{}, err
	}
	counties, err := s.counties(ctx)
	if err != nil {
		return Summary{}, err
	}
	agrs, err := s.agreements(ctx, m)
	if err != nil {
		return Summary{}, err
	}
	if err := s.prefetchLibraries(ctx, m); err != nil {
		return Summary{}, err
	}

	sum := Summary{Index: filepath.Join(s.Out, "index.html")}
	emit := func(rel, tpl string, p page) error {
		if err := render(filepath.Join(s.Out, filepath.FromSlash(rel)), tpl, p); err != nil {
			return err
		}
		sum.Pages++
		return nil
	}

	idx := common
	idx.Title, idx.Libraries, idx.Counties, idx.Agreements = m.SiteTitle, libs, counties, agrs
	if err := emit("index.html", "index.html", idx); err != nil {
		return sum, err
	}

	nation := common
	nation.Title, nation.Intro = m.National, m.NationalIntro
	if err := s.fillUsage(ctx, &nation, Scope{Kind: "nation", Name: m.National, FileStem: "nasjonalt-bruk", Directory: "."}); err != nil {
		return sum, err
	}
	if err := emit("nasjonalt.html", "usage.html", nation); err != nil {
		return sum, err
	}

	if err := s.countyPages(ctx, m, common, counties, libs, emit); err != nil {
		return sum, err
	}
	if err := s.libraryPages(ctx, m, common, libs, emit); err != nil {
		return sum, err
	}
	for _, a := range agrs {
		p := common
		p.Title, p.Root, p.Agreement = a.Name, "../", a.view
		if a.view.Shares != nil {
			p.Charts = []*table{a.view.Shares}
		}
		if err := emit("avtale/"+a.ID+".html", "agreement.html", p); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// emitFunc writes page p with template tpl at rel under the site.
type emitFunc func(rel, tpl string, p page) error

// countyPages writes each county's usage page with its libraries compared.
func (s *Site) countyPages(ctx context.Context, m messages, common page, counties []countyRow, libs []libraryRow, emit emitFunc) error {
	for _, c := range counties {
		p := common
		p.Title, p.Root, p.County, p.Intro = m.County+" "+c.Name, "../", c, m.CountyIntro
		if err := s.fillUsage(ctx, &p, Scope{Kind: "county", ID: c.ID, Name: c.Name, FileStem: "fylke-" + c.ID + "-bruk", Directory: "fylke"}); err != nil {
			return err
		}
		cmp, members, err := s.compareLibraries(ctx, m, c.ID, p.YoYYear, libs)
		if err != nil {
			return err
		}
		p.Charts, p.Libraries = append(p.Charts, cmp), members
		if err := emit("fylke/"+c.ID+".html", "usage.html", p); err != nil {
			return err
		}
	}
	return nil
}

// libraryPages writes each library's usage page.
func (s *Site) libraryPages(ctx context.Context, m messages, common page, libs []libraryRow, emit emitFunc) error {
	for _, lib := range libs {
		p := common
		p.Title, p.Root, p.Library = lib.Name, "../", lib
		p.Intro = fmt.Sprintf("ISIL %s · %s %s", lib.ISIL, m.Municipality, lib.Municipality)
		sc := Scope{Kind: "library", ID: lib.ID, Name: lib.Name, ISIL: lib.ISIL, FileStem: lib.ID + "-bruk", Directory: "bibliotek"}
		if err := s.fillUsage(ctx, &p, sc); err != nil {
			return err
		}
		if err := emit("bibliotek/"+lib.ID+".html", "usage.html", p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// fillUsage puts a scope's charts, tables and downloads on p.
func (s *Site) fillUsage(ctx context.Context, p *page, sc Scope) error {
	rows, err := s.usage(ctx, sc)
	if err != nil {
		return err
	}
	tr, bd := trend(p.M, rows), breakdown(p.M, rows)
	p.Charts = []*table{&tr, &bd}
	p.YoYYear, p.YoY = yearOverYear(p.M, rows)
	if p.PerCapita, err = s.perInhabitant(ctx, p.M, sc, rows); err != nil {
		return err
	}
	if p.Top, err = s.topTitles(ctx, p.M, sc); err != nil {
		return err
	}
	p.Downloads, err = s.writeDownloads(ctx, p.M, sc, rows)
	return err
}

// libraries lists the register, each library in its one county
// (library_county: a library split over two municipalities, old Ålesund,
// is in the county of the larger share), as the portal's access check
// and the agreements place it.
func (s *Site) libraries(ctx context.Context, m messages) ([]libraryRow, error) {
	rows, err := s.DB.QueryContext(ctx, `
		SELECT l.library_id, l.isil, l.name, coalesce(mu.name, l.municipality), coalesce(c.county, ''),
		       coalesce((SELECT max_by(population, year) FROM library_population p WHERE p.library_id = l.library_id), 0),
		       coalesce((SELECT sum(total) FROM mart_library_month u
		                 WHERE u.library_id = l.library_id AND u.metric_type = ?), 0)
		FROM libraries l
		LEFT JOIN municipalities mu ON mu.municipality = l.municipality
		LEFT JOIN library_county c USING (library_id)
		ORDER BY l.name, l.library_id`, trendMetric)
	if err != nil {
		return nil, fmt.Errorf("report libraries: %w", err)
	}
	defer rows.Close()
	var out []libraryRow
	for rows.Next() {
		var r libraryRow
		var pop int64
		var total float64
		if err := rows.Scan(&r.ID, &r.ISIL, &r.Name, &r.Municipality, &r.County, &pop, &total); err != nil {
			return nil, fmt.Errorf("report libraries: %w", err)
		}
		if bibstat.CheckSegment(r.ID) != nil {
			return nil, fmt.Errorf("report libraries: library id %q cannot name a page", r.ID)
		}
		r.Population, r.Total = m.formatInt(pop), m.formatNumber(total)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Site) counties(ctx context.Context) ([]countyRow, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT county, name FROM counties WHERE valid_to IS NULL ORDER BY county`)
	if err != nil {
		return nil, fmt.Errorf("report counties: %w", err)
	}
	defer rows.Close()
	var out []countyRow
	for rows.Next() {
		var c countyRow
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, fmt.Errorf("report counties: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// compareLibraries charts the county's libraries against each other in a
// year: their use and their use per 1,000 inhabitants.
func (s *Site) compareLibraries(ctx context.Context, m messages, county string, year int, libs []libraryRow) (*table, []libraryRow, error) {
	t := &table{ID: "compare", Heading: fmt.Sprintf("%s %d", m.CompareHeading, year),
		Caption: fmt.Sprintf("%s %d", m.CompareCaption, year), RowHead: m.Library,
		Series: []string{m.PerThousand, trendMetric}, Charted: 1} // per inhabitant compares fairly
	rows, err := s.DB.QueryContext(ctx, `
		SELECT u.library_id, sum(u.total), any_value(p.population)
		FROM mart_library_month u
		LEFT JOIN library_population p ON p.library_id = u.library_id AND p.year = year(u.month)
		WHERE u.metric_type = ? AND year(u.month) = ?
		  AND u.library_id IN (SELECT library_id FROM library_county WHERE county = ?)
		GROUP BY u.library_id`, trendMetric, year, county)
	if err != nil {
		return nil, nil, fmt.Errorf("report county %s: %w", county, err)
	}
	defer rows.Close()
	type use struct {
		total float64
		pop   sql.NullInt64
	}
	uses := map[string]use{}
	for rows.Next() {
		var id string
		var u use
		if err := rows.Scan(&id, &u.total, &u.pop); err != nil {
			return nil, nil, fmt.Errorf("report county %s: %w", county, err)
		}
		uses[id] = u
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var members []libraryRow
	for _, l := range libs {
		if l.County != county {
			continue
		}
		members = append(members, l)
		u := uses[l.ID]
		per := 0.0
		if u.pop.Valid && u.pop.Int64 > 0 {
			per = u.total * 1000 / float64(u.pop.Int64)
		}
		t.addRow(l.Name, []float64{per, u.total}, m.formatNumber)
		t.Rows[len(t.Rows)-1].Cells[0] = m.formatDecimal(per)
	}
	return t, members, nil
}

type agreementRow struct {
	ID, Name string
	view     *agreementView
}

// agreementView is an agreement's value as the page shows it.
type agreementView struct {
	Period, Model, Cost, Uses, CostPerUse, CostPerInhabitant, Population, Participation string
	Participants                                                                        [][5]string
	Formulas                                                                            []agreements.Formula
	Shares                                                                              *table
}

// agreements values every imported agreement over its whole period. A
// warehouse without an agreement registry has no agreements, not an error:
// List creates the registry's empty tables.
func (s *Site) agreements(ctx context.Context, m messages) ([]agreementRow, error) {
	w := &agreements.Warehouse{DB: s.DB}
	list, err := w.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("report agreements: %w", err)
	}
	var out []agreementRow
	for _, a := range list {
		if bibstat.CheckSegment(a.ID) != nil {
			return nil, fmt.Errorf("report agreements: id %q cannot name a page", a.ID)
		}
		v, err := agreements.Value(ctx, w, a, a.From, a.To)
		if err != nil && !errors.Is(err, agreements.ErrOutsidePeriod) {
			return nil, fmt.Errorf("report agreement %s: %w", a.ID, err)
		}
		out = append(out, agreementRow{ID: a.ID, Name: a.Name, view: viewOf(m, a, v)})
	}
	return out, nil
}

func viewOf(m messages, a agreements.Agreement, v *agreements.Valuation) *agreementView {
	view := &agreementView{Period: a.From.String() + " – " + a.To.String(), Model: string(a.Model)}
	if v == nil {
		view.Cost, view.Uses, view.CostPerUse, view.CostPerInhabitant = m.NoData, m.NoData, m.NoData, m.NoData
		return view
	}
	view.Cost = v.Cost.String() + " NOK"
	view.Uses = m.NoData
	if v.HasData {
		view.Uses = m.formatInt(v.Uses)
	}
	view.CostPerUse, view.CostPerInhabitant = m.quotient(v.CostPerUse), m.quotient(v.CostPerInhabitant)
	view.Population = m.formatInt(v.Population)
	view.Participation = fmt.Sprintf("%d %s", v.Libraries, strings.ToLower(m.Libraries))
	view.Formulas = v.Formulas
	view.Shares = &table{ID: "shares", Heading: m.SharesHeading, Caption: m.SharesCaption, RowHead: m.Participant,
		Series: []string{m.Allocated}}
	for _, pv := range v.Participants {
		uses := m.NoData
		if pv.HasData {
			uses = m.formatInt(pv.Uses)
		}
		view.Participants = append(view.Participants, [5]string{pv.Name, fmt.Sprint(pv.Months), pv.Allocated.String(), uses, m.quotient(pv.CostPerUse)})
		view.Shares.addRow(pv.Name, []float64{float64(pv.Allocated) / 100}, m.formatNumber)
		view.Shares.Rows[len(view.Shares.Rows)-1].Cells[0] = pv.Allocated.String()
	}
	return view
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

func render(path, name string, p page) error {
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
	return writeFileAtomic(path, buf.Bytes())
}

func writeAssets(out string) error {
	return fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(out, filepath.FromSlash(p)), b)
	})
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
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// quotient writes a cost per use or per inhabitant, or in words why there is none.
func (m messages) quotient(q agreements.Quotient) string {
	if q.OK() {
		return q.String()
	}
	switch q.Reason {
	case "no uses":
		return m.NoUses
	case "no inhabitants":
		return m.NoInhabitants
	}
	return m.NoData
}
