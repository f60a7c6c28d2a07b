package server

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/report"
)

//go:embed templates/*.html
var exploreTemplateFiles embed.FS

var exploreTemplates = template.Must(template.New("").ParseFS(exploreTemplateFiles, "templates/*.html"))

// option is one choice of a form's select or checkbox list.
type option struct {
	Name, Value, Label string // Name: the parameter, where options of one list differ in it
	On                 bool
}

// explorePage is what the explorer's template gets.
type explorePage struct {
	portalPage
	Error, Intro                                              string
	FromOpts, ToOpts, PlatformOpts, MetricOpts, Whose, ByOpts []option
	Heading, Caption, MetricAnchor, ShareURL, NoUsage         string
	Series                                                    []string
	Rows                                                      []tableRow
	ChartJSON                                                 template.JS
	Downloads                                                 []link
}

type tableRow struct {
	Label string
	Cells []string
}

// portalPage is what every page of the portal in a language carries.
type portalPage struct {
	M     report.Messages
	W     exploreWords
	Title string
	User  User
	CSRF  string
	Langs []option // the page in each language: Name the language, Value the link
}

// langLinks link to the page at path in each language, with query q.
func langLinks(path string, q url.Values) []option {
	var out []option
	for _, l := range []struct{ code, name string }{{"nb", "Bokmål"}, {"nn", "Nynorsk"}, {"en", "English"}} {
		q.Set("lang", l.code)
		out = append(out, option{Name: l.code, Value: path + "?" + q.Encode(), Label: l.name})
	}
	return out
}

// pageLang is the language the request asks for (?lang=), else the
// server's; ok is false for a language there is none of.
func (s *Server) pageLang(r *http.Request) (report.Lang, report.Messages, exploreWords, bool) {
	def := report.Lang(s.cfg.Lang)
	if _, ok := exploreCatalog[def]; !ok {
		def = "nb"
	}
	lang := def
	if l := r.URL.Query().Get("lang"); l != "" {
		lang = report.Lang(l)
	}
	m, ok := report.Catalog(lang)
	w, okw := exploreCatalog[lang]
	if !ok || !okw {
		m, _ = report.Catalog(def)
		return def, m, exploreCatalog[def], false
	}
	return lang, m, w, true
}

// portalStart opens a portal page: the signed-in user's (else it redirects
// to /login, and ok is false), in the language the request asks for;
// langErr refuses a language there is none of, and is "" for one there is.
func (s *Server) portalStart(w http.ResponseWriter, r *http.Request) (p portalPage, lang report.Lang, langErr string, ok bool) {
	u, se, ok := s.currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return p, "", "", false
	}
	lang, m, words, known := s.pageLang(r)
	if !known {
		langErr = fmt.Sprintf(words.ErrLang, r.URL.Query().Get("lang"))
	}
	return portalPage{M: m, W: words, User: u, CSRF: se.CSRF}, lang, langErr, true
}

// explore serves /utforsk: the form, the chart, its table and the downloads.
func (s *Server) explore(w http.ResponseWriter, r *http.Request) {
	pp, lang, langErr, ok := s.portalStart(w, r)
	if !ok {
		return
	}
	u, m, words := pp.User, pp.M, pp.W
	pp.Title = words.Title
	p := explorePage{portalPage: pp, Intro: words.Intro, Error: langErr}
	if langErr != "" {
		s.renderExplore(w, http.StatusBadRequest, "explore", p)
		return
	}
	ctx := r.Context()
	opts, err := s.exploreOptionsFor(ctx, u)
	if err != nil {
		s.log.Error("explore: options", "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	c, err := parseChoice(r.URL.Query(), u, opts, words, lang)
	p.form(c, opts, s.platformName, m, words)
	var ce *choiceError
	if errors.As(err, &ce) {
		if ce.Status == http.StatusForbidden {
			s.log.Info("denied", "user", u.Name, "path", "/utforsk", "query", r.URL.RawQuery)
		}
		// The form stays, to choose again; nothing links to a refused choice.
		p.Error, p.Downloads, p.ShareURL = ce.Msg, nil, ""
		s.renderExplore(w, ce.Status, "explore", p)
		return
	}
	if c.Format != "" {
		s.exploreDownload(w, r, c, opts, m)
		return
	}
	ser, err := s.exploreSeries(ctx, c, opts, m, words)
	if err != nil {
		s.log.Error("explore: series", "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := p.fill(c, ser, m, words); err != nil {
		s.log.Error("explore: chart", "error", err)
	}
	s.renderExplore(w, http.StatusOK, "explore", p)
}

// form fills the form's options with c chosen.
func (p *explorePage) form(c exploreChoice, o exploreOptions, platform func(string) string, m report.Messages, w exploreWords) {
	for _, mo := range o.Months {
		p.FromOpts = append(p.FromOpts, option{"from", mo.String(), m.FormatMonth(mo.First()), mo == c.From})
		p.ToOpts = append(p.ToOpts, option{"to", mo.String(), m.FormatMonth(mo.First()), mo == c.To})
	}
	for _, id := range o.Platforms {
		p.PlatformOpts = append(p.PlatformOpts, option{"platform", id, platform(id), slices.Contains(c.Platforms, id)})
	}
	slices.SortStableFunc(p.PlatformOpts, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	for _, mt := range o.Metrics {
		p.MetricOpts = append(p.MetricOpts, option{"metric", mt, m.Metric(mt), mt == c.Metric})
	}
	if o.National {
		p.Whose = append(p.Whose, option{"national", "1", w.WholeCountry, c.National})
	}
	for _, a := range o.Counties {
		p.Whose = append(p.Whose, option{"county", a.ID, fmt.Sprintf(w.CountyOf, a.Name), slices.Contains(c.Counties, a.ID)})
	}
	for _, l := range o.Libraries {
		p.Whose = append(p.Whose, option{"library", string(l.ID), l.Name + " (" + string(l.ID) + ")", slices.Contains(c.Libraries, l.ID)})
	}
	p.ByOpts = []option{{"by", "entity", w.ByEntity, !c.ByPlatform}, {"by", "platform", w.ByPlatform, c.ByPlatform}}
	q := c.query()
	q.Del("format")
	p.Langs = langLinks("/utforsk", c.query())
	p.ShareURL = "/utforsk?" + q.Encode()
	for _, d := range []struct{ format, label string }{{"csv", m.DownloadCSV}, {"csv-machine", m.DownloadCSVMachine}, {"xlsx", m.DownloadXLSX}} {
		q.Set("format", d.format)
		p.Downloads = append(p.Downloads, link{Href: "/utforsk?" + q.Encode(), Text: d.label})
	}
}

// fill puts the series on the page: a chart and, after it, its numbers
// in a table that needs no script, with the period's total.
func (p *explorePage) fill(c exploreChoice, ser []series, m report.Messages, w exploreWords) error {
	label := m.Metric(c.Metric)
	p.Heading = fmt.Sprintf(w.ChartHeading, label)
	p.Caption = fmt.Sprintf(w.TableCaption, label, m.FormatMonth(c.From.First()), m.FormatMonth(c.To.First()))
	p.MetricAnchor = report.GlossaryAnchor(c.Metric)
	any := false
	var labels []string
	var values [][]float64
	totals := make([]float64, len(ser))
	seen := make([]bool, len(ser))
	for _, s := range ser {
		p.Series = append(p.Series, s.Name)
		any = any || len(s.Values) > 0
	}
	if !any {
		p.NoUsage = w.NoUsage
		p.Downloads = nil
		return nil
	}
	for _, mo := range bibstat.MonthsBetween(c.From, c.To) {
		row := tableRow{Label: m.FormatMonth(mo.First())}
		vals := make([]float64, len(ser))
		for i, s := range ser {
			v := s.at(mo)
			vals[i] = v
			if math.IsNaN(v) {
				row.Cells = append(row.Cells, m.NoData)
				continue
			}
			row.Cells = append(row.Cells, m.FormatNumber(v))
			totals[i] += v
			seen[i] = true
		}
		p.Rows = append(p.Rows, row)
		labels, values = append(labels, row.Label), append(values, vals)
	}
	total := tableRow{Label: w.PeriodTotal}
	for i := range ser {
		if !seen[i] {
			total.Cells = append(total.Cells, m.NoData)
			continue
		}
		total.Cells = append(total.Cells, m.FormatNumber(totals[i]))
	}
	p.Rows = append(p.Rows, total)
	js, err := report.LineChart("explore", m.AxisMonth, label, labels, p.Series, values)
	p.ChartJSON = js
	return err
}

// platformName is a platform's display name, or its id when it has none.
func (s *Server) platformName(id string) string {
	if n := s.cfg.Platforms[id]; n != "" {
		return n
	}
	return id
}

// renderExplore writes a portal page in its language. Scripts come only
// from the site's assets; the chart's option is JSON data, never code.
func (s *Server) renderExplore(w http.ResponseWriter, status int, name string, d any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := exploreTemplates.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render", "page", name, "error", err)
	}
}

// exploreRoutes are the explorer's and the own agreements' pages.
func (s *Server) exploreRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /utforsk", s.explore)
	mux.HandleFunc("GET /utforsk/sammenligning", s.exploreCompare)
	mux.HandleFunc("GET /avtaler", s.ownAgreements)
}
