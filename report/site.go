package report

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

//go:embed assets/*.js assets/*.css assets/*.txt
var assets embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// Querier is what the site needs of the warehouse.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Site writes the static report site.
type Site struct {
	DB   Querier
	Out  string // directory to write into
	Lang Lang   // "" means "nb"
	// Now stamps the pages; nil means time.Now.
	Now func() time.Time
}

// Summary counts what Build wrote.
type Summary struct {
	Pages int
	Index string // path of index.html
}

type libraryRow struct {
	ID, ISIL, Name, Municipality string
	Population, Total            string
}

// Build writes the index, one page per library, and the assets.
func (s *Site) Build(ctx context.Context) (Summary, error) {
	lang := s.Lang
	if lang == "" {
		lang = "nb"
	}
	m, ok := catalog[lang]
	if !ok {
		return Summary{}, fmt.Errorf("report: unknown language %q (want nb, nn or en)", lang)
	}
	if err := writeAssets(s.Out); err != nil {
		return Summary{}, err
	}
	libs, err := s.libraries(ctx, m)
	if err != nil {
		return Summary{}, err
	}
	common := page{M: m, Generated: s.now().Format("2006-01-02 15:04")}
	sum := Summary{Index: filepath.Join(s.Out, "index.html")}
	idx := common
	idx.Title, idx.Root, idx.Libraries = m.SiteTitle, "", libs
	if err := render(sum.Index, "index.html", idx); err != nil {
		return sum, err
	}
	sum.Pages++
	nation := common
	nation.Title, nation.Root = m.National, ""
	if err := s.fillUsage(ctx, &nation, Scope{Name: m.National, FileStem: "nasjonalt-bruk", Directory: "nedlasting"}); err != nil {
		return sum, err
	}
	if err := render(filepath.Join(s.Out, "nasjonalt.html"), "national.html", nation); err != nil {
		return sum, err
	}
	sum.Pages++
	for _, lib := range libs {
		p := common
		p.Title, p.Root, p.Library = lib.Name, "../", lib
		sc := Scope{Name: lib.Name, Library: lib.ID, ISIL: lib.ISIL, FileStem: lib.ID + "-bruk", Directory: "bibliotek"}
		if err := s.fillUsage(ctx, &p, sc); err != nil {
			return sum, err
		}
		if err := render(filepath.Join(s.Out, "bibliotek", lib.ID+".html"), "library.html", p); err != nil {
			return sum, err
		}
		sum.Pages++
	}
	return sum, nil
}

func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// fillUsage puts a scope's monthly trend, its chart and its downloads on p.
func (s *Site) fillUsage(ctx context.Context, p *page, sc Scope) error {
	var err error
	if p.Trend, err = s.trend(ctx, p.M, sc.Library); err != nil {
		return err
	}
	if p.TrendJSON, err = p.Trend.chartJSON(); err != nil {
		return err
	}
	p.Downloads, err = s.writeDownloads(ctx, p.M, sc)
	return err
}

// page is what every template gets.
type page struct {
	M         messages
	Title     string
	Root      string // relative path to the site root: "" or "../"
	Generated string
	Libraries []libraryRow
	Library   libraryRow
	Trend     table
	TrendJSON template.JS
	Downloads []download
}

func (s *Site) libraries(ctx context.Context, m messages) ([]libraryRow, error) {
	rows, err := s.DB.QueryContext(ctx, `
		SELECT l.library_id, l.isil, l.name, coalesce(m.name, l.municipality), coalesce(l.population, 0),
		       coalesce((SELECT sum(count) FROM mart_library_month u
		                 WHERE u.library_id = l.library_id AND u.metric_type = 'Total_Item_Requests'), 0)
		FROM libraries l LEFT JOIN municipalities m ON m.municipality = l.municipality
		ORDER BY l.name`)
	if err != nil {
		return nil, fmt.Errorf("report libraries: %w", err)
	}
	defer rows.Close()
	var out []libraryRow
	for rows.Next() {
		var r libraryRow
		var pop, total int64
		if err := rows.Scan(&r.ID, &r.ISIL, &r.Name, &r.Municipality, &pop, &total); err != nil {
			return nil, fmt.Errorf("report libraries: %w", err)
		}
		r.Population, r.Total = m.formatInt(pop), m.formatInt(total)
		out = append(out, r)
	}
	return out, rows.Err()
}

// table is a chart's numbers: one row per month, one column per series.
type table struct {
	Series []string
	Rows   []tableRow
	values [][]int64
}

type tableRow struct {
	Label string
	Cells []string
}

func (s *Site) trend(ctx context.Context, m messages, lib string) (table, error) {
	rows, err := s.DB.QueryContext(ctx, `
		SELECT platform, month, sum(count) FROM mart_library_month
		WHERE (? = '' OR library_id = ?) AND metric_type = 'Total_Item_Requests'
		GROUP BY platform, month ORDER BY month, platform`, lib, lib)
	if err != nil {
		return table{}, fmt.Errorf("report trend %s: %w", lib, err)
	}
	defer rows.Close()
	type key struct {
		platform string
		month    time.Time
	}
	counts := map[key]int64{}
	platforms := map[string]bool{}
	var months []time.Time
	seen := map[time.Time]bool{}
	for rows.Next() {
		var k key
		var n int64
		if err := rows.Scan(&k.platform, &k.month, &n); err != nil {
			return table{}, fmt.Errorf("report trend %s: %w", lib, err)
		}
		counts[k] += n
		platforms[k.platform] = true
		if !seen[k.month] {
			seen[k.month] = true
			months = append(months, k.month)
		}
	}
	if err := rows.Err(); err != nil {
		return table{}, err
	}
	var t table
	for p := range platforms {
		t.Series = append(t.Series, p)
	}
	sort.Strings(t.Series)
	for _, mo := range months {
		r := tableRow{Label: m.formatMonth(mo)}
		vals := make([]int64, len(t.Series))
		for i, p := range t.Series {
			vals[i] = counts[key{p, mo}]
			r.Cells = append(r.Cells, m.formatInt(vals[i]))
		}
		t.Rows = append(t.Rows, r)
		t.values = append(t.values, vals)
	}
	return t, nil
}

// chartJSON builds a line chart of t with go-echarts and returns its option
// as JSON that is safe inside a <script> element: json.Marshal escapes <, >
// and &, so no vendor text can close the element.
func (t table) chartJSON() (template.JS, error) {
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithAnimation(false),
	)
	labels := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		labels[i] = r.Label
	}
	line.SetXAxis(labels)
	for si, name := range t.Series {
		data := make([]opts.LineData, len(t.values))
		for i := range t.values {
			data[i] = opts.LineData{Value: t.values[i][si]}
		}
		line.AddSeries(name, data)
	}
	line.Validate()
	b, err := json.Marshal(line.JSON())
	if err != nil {
		return "", fmt.Errorf("chart json: %w", err)
	}
	return template.JS(b), nil
}

func render(path, name string, p page) error {
	tpl, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/usage.html", "templates/"+name)
	if err != nil {
		return fmt.Errorf("report template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tpl.ExecuteTemplate(&buf, "layout", p); err != nil {
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
