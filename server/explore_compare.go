package server

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/report"
)

// /utforsk/sammenligning: the vendor's figures beside the ones measured
// from the logins, for the platforms that have both
// (mart_source_comparison), chosen as the explorer chooses (period,
// platforms, one metric, libraries and areas within the user's access).
// Each library or area and platform gets its months side by side: the two
// figures, the difference and its percent, which source counts and the
// months that drift. An area is the sum of its libraries that have both
// figures in the month (report.SumComparison), never one side's libraries
// beside the other's. The mart has nothing finer than a library's month.

// comparePage is what the comparison's template gets.
type comparePage struct {
	portalPage
	Error, Intro, ShareURL, NoUsage, MetricAnchor     string
	FromOpts, ToOpts, PlatformOpts, MetricOpts, Whose []option
	Sections                                          []compareSection
	Downloads                                         []link
}

// compareSection is one library's or area's comparison of one platform.
type compareSection struct {
	ID, Heading, Counted, Drift, Caption string
	Columns                              []string
	Rows                                 []tableRow
	ChartJSON                            template.JS
}

// compareOptions narrows the explorer's options to what the comparison
// has: its platforms, metrics and months; ok is false when the warehouse
// has no comparison (none made yet, or a warehouse from before it).
func (s *Server) compareOptions(ctx context.Context, o exploreOptions) (exploreOptions, bool, error) {
	var n int
	if err := s.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_name = 'mart_source_comparison'`).Scan(&n); err != nil || n == 0 {
		return o, false, err
	}
	var err error
	if o.Platforms, err = s.strings(ctx, `SELECT DISTINCT platform FROM mart_source_comparison ORDER BY 1`); err != nil {
		return o, false, err
	}
	if o.Metrics, err = s.strings(ctx, `SELECT DISTINCT metric_type FROM mart_source_comparison ORDER BY 1`); err != nil {
		return o, false, err
	}
	var first, last sql.NullTime
	if err := s.cfg.DB.QueryRowContext(ctx, `SELECT min(month), max(month) FROM mart_source_comparison`).Scan(&first, &last); err != nil {
		return o, false, fmt.Errorf("compare months: %w", err)
	}
	o.Months = nil
	if first.Valid {
		o.Months = bibstat.MonthsBetween(bibstat.MonthOf(first.Time), bibstat.MonthOf(last.Time))
	}
	return o, len(o.Months) > 0, nil
}

// exploreCompare serves /utforsk/sammenligning.
func (s *Server) exploreCompare(w http.ResponseWriter, r *http.Request) {
	pp, lang, langErr, ok := s.portalStart(w, r)
	if !ok {
		return
	}
	u, m, words := pp.User, pp.M, pp.W
	pp.Title = words.CompareTitle
	p := comparePage{portalPage: pp, Intro: words.CompareIntro, Error: langErr}
	if langErr != "" {
		s.renderExplore(w, http.StatusBadRequest, "explore-compare", p)
		return
	}
	ctx := r.Context()
	opts, err := s.exploreOptionsFor(ctx, u)
	var has bool
	if err == nil {
		opts, has, err = s.compareOptions(ctx, opts)
	}
	if err != nil {
		s.log.Error("compare: options", "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	if !has {
		p.Langs, p.NoUsage = langLinks("/utforsk/sammenligning", r.URL.Query()), words.CompareNone
		s.renderExplore(w, http.StatusOK, "explore-compare", p)
		return
	}
	c, err := parseChoice(r.URL.Query(), u, opts, words, lang)
	p.form(c, opts, s.platformName, m, words)
	var ce *choiceError
	if errors.As(err, &ce) {
		if ce.Status == http.StatusForbidden {
			s.log.Info("denied", "user", u.Name, "path", "/utforsk/sammenligning", "query", r.URL.RawQuery)
		}
		p.Error, p.Downloads, p.ShareURL = ce.Msg, nil, ""
		s.renderExplore(w, ce.Status, "explore-compare", p)
		return
	}
	rows, err := s.compareRows(ctx, c, opts)
	if err != nil {
		s.log.Error("compare: rows", "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	if c.Format != "" {
		s.compareDownload(w, c, opts, m, rows)
		return
	}
	if err := p.fill(c, opts, rows, s.platformName, m, words); err != nil {
		s.log.Error("compare: chart", "error", err)
	}
	s.renderExplore(w, http.StatusOK, "explore-compare", p)
}

// form fills the form as the explorer's, without its choice of lines, and
// points the language, share and download links at the comparison.
func (p *comparePage) form(c exploreChoice, o exploreOptions, platform func(string) string, m report.Messages, w exploreWords) {
	var e explorePage
	e.form(c, o, platform, m, w)
	p.FromOpts, p.ToOpts, p.PlatformOpts, p.MetricOpts, p.Whose = e.FromOpts, e.ToOpts, e.PlatformOpts, e.MetricOpts, e.Whose
	q := c.query()
	q.Del("format")
	q.Del("by")
	p.Langs = langLinks("/utforsk/sammenligning", c.query())
	p.ShareURL = "/utforsk/sammenligning?" + q.Encode()
	for _, d := range e.Downloads {
		p.Downloads = append(p.Downloads, link{Href: strings.Replace(d.Href, "/utforsk?", "/utforsk/sammenligning?", 1), Text: d.Text})
	}
}

// chosenLibraries are the libraries the choice covers, each once: those
// chosen, those of the chosen counties, or every one for the country.
func chosenLibraries(c exploreChoice, o exploreOptions) []LibraryInfo {
	var out []LibraryInfo
	for _, l := range o.Libraries {
		if c.National || slices.Contains(c.Libraries, l.ID) || slices.Contains(c.Counties, l.County) {
			out = append(out, l)
		}
	}
	return out
}

// compareRows reads the chosen metric's comparison for the libraries the
// choice covers, in the period and platforms chosen.
func (s *Server) compareRows(ctx context.Context, c exploreChoice, o exploreOptions) ([]report.ComparisonRow, error) {
	libs := chosenLibraries(c, o)
	if len(libs) == 0 {
		return nil, nil
	}
	q := `SELECT library_id, platform, month, metric_type, vendor_count, login_count, difference, counted_source
		FROM mart_source_comparison WHERE metric_type = ? AND month BETWEEN ? AND ?`
	args := []any{c.Metric, c.From.First(), c.To.First()}
	if !c.National {
		ids := make([]string, len(libs))
		for i, l := range libs {
			ids[i] = string(l.ID)
		}
		q, args = inList(q, args, "library_id", ids)
	}
	q, args = inList(q, args, "platform", c.Platforms)
	rows, err := s.cfg.DB.QueryContext(ctx, q+` ORDER BY platform, library_id, month`, args...)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	// The country (an admin's alone) reads every library's rows, also one
	// the register lacks, as the site's national page sums them.
	out, err := report.ScanComparison(rows)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	return out, nil
}

// whose is one library or area of a choice and the libraries it sums.
type whose struct {
	name string
	libs map[string]bool
	sum  bool
}

// whoseOf are the choice's libraries, counties and the country, in the
// explorer's order.
func whoseOf(c exploreChoice, o exploreOptions, m report.Messages, w exploreWords) []whose {
	var out []whose
	for _, l := range o.Libraries {
		if slices.Contains(c.Libraries, l.ID) {
			out = append(out, whose{name: l.Name, libs: map[string]bool{string(l.ID): true}})
		}
	}
	for _, a := range o.Counties {
		if slices.Contains(c.Counties, a.ID) {
			in := map[string]bool{}
			for _, l := range o.Libraries {
				if l.County == a.ID {
					in[string(l.ID)] = true
				}
			}
			out = append(out, whose{name: fmt.Sprintf(w.CountyOf, a.Name), libs: in, sum: true})
		}
	}
	if c.National {
		out = append(out, whose{name: m.National, sum: true}) // libs nil: every row
	}
	return out
}

// fill puts a section on the page for each library or area and platform
// that has comparison rows in the period.
func (p *comparePage) fill(c exploreChoice, o exploreOptions, rows []report.ComparisonRow, platform func(string) string,
	m report.Messages, w exploreWords) error {
	cw := m.Comparison
	label := m.Metric(c.Metric)
	p.MetricAnchor = report.GlossaryAnchor(c.Metric)
	platforms := map[string][]report.ComparisonRow{}
	for _, r := range rows {
		platforms[r.Platform] = append(platforms[r.Platform], r)
	}
	ids := make([]string, 0, len(platforms))
	for id := range platforms {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(platform(a), platform(b)), cmp.Compare(a, b)) })
	var errs []error
	for _, who := range whoseOf(c, o, m, w) {
		for _, id := range ids {
			var mine []report.ComparisonRow
			for _, r := range platforms[id] {
				if who.libs == nil || who.libs[r.Library] {
					mine = append(mine, r)
				}
			}
			if len(mine) == 0 {
				continue
			}
			if who.sum {
				mine = report.SumComparison(mine)
			}
			sec := compareSection{ID: fmt.Sprintf("cmp%d", len(p.Sections)), Heading: fmt.Sprintf(w.CompareSection, who.name, platform(id)),
				Counted: m.CountedSentence(mine), Drift: m.DriftSentence(mine),
				Caption: fmt.Sprintf("%s: %s, %s–%s", fmt.Sprintf(w.CompareSection, who.name, platform(id)), fmt.Sprintf(cw.Caption, label),
					m.FormatMonth(c.From.First()), m.FormatMonth(c.To.First())),
				Columns: []string{cw.Vendor, cw.Login, cw.Difference, cw.DifferencePercent}}
			if who.sum {
				sec.Columns = append(sec.Columns, cw.Compared)
			}
			errs = append(errs, sec.fill(c, mine, who.sum, m))
			p.Sections = append(p.Sections, sec)
		}
	}
	if len(p.Sections) == 0 {
		p.NoUsage, p.Downloads = w.NoUsage, nil
	}
	return errors.Join(errs...)
}

// fill writes the section's months, every month of the period, one with
// no row having no data from either source; and its chart of the two
// figures.
func (sec *compareSection) fill(c exploreChoice, rows []report.ComparisonRow, sum bool, m report.Messages) error {
	at := map[bibstat.Month]report.ComparisonRow{}
	for _, r := range rows {
		at[bibstat.MonthOf(r.Month)] = r
	}
	var labels []string
	var values [][]float64
	for _, mo := range bibstat.MonthsBetween(c.From, c.To) {
		r, ok := at[mo]
		if !ok {
			r = report.ComparisonRow{Month: mo.First()}
		}
		row := tableRow{Label: m.FormatMonth(mo.First()), Cells: m.ComparisonCells(r)}
		if sum {
			row.Cells = append(row.Cells, fmt.Sprintf(m.Comparison.ComparedOf, m.FormatInt(int64(r.Both)), m.FormatInt(int64(r.Libraries))))
		}
		sec.Rows = append(sec.Rows, row)
		labels = append(labels, row.Label)
		values = append(values, []float64{nullValue(r.Vendor), nullValue(r.Login)})
	}
	js, err := report.LineChart(sec.ID, m.AxisMonth, m.Metric(c.Metric), labels, []string{m.Comparison.Vendor, m.Comparison.Login}, values)
	sec.ChartJSON = js
	return err
}

// nullValue is v for a chart: NaN, a gap and never 0, when there is none.
func nullValue(v sql.NullInt64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return float64(v.Int64)
}

// compareDownload answers a choice with format set: the comparison's rows
// per library as the site's comparison downloads are written.
func (s *Server) compareDownload(w http.ResponseWriter, c exploreChoice, o exploreOptions, m report.Messages, rows []report.ComparisonRow) {
	names := map[string]string{}
	for _, l := range o.Libraries {
		names[string(l.ID)] = l.Name
	}
	library := func(id string) string { return names[id] }
	s.sendDownload(w, c, "bibstat-sammenligning-",
		func(machine bool) ([]byte, error) {
			return report.ComparisonCSV(m, s.platformName, library, rows, machine)
		},
		func() ([]byte, error) { return report.ComparisonXLSX(m, s.platformName, library, rows) })
}
