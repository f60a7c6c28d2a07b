package server

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/report"
)

// The explorer (/utforsk) shows one metric of the chosen platforms over a
// period for the chosen libraries and areas, each a series of its own, read
// from the marts: a library from mart_library_month, a county (2024
// structure, across the reform) from mart_county_month_current, the whole
// country from mart_national_month, which alone holds the usage no library
// could be attributed. The series are never added to each other: a county
// holds its libraries, so a sum across them would count a use twice.
//
// The URL holds the whole choice (a GET form), so a link can be shared;
// each parameter is checked against what exists (400) and what the user
// may see (403).

// maxEntities caps the series of one choice: a chart of 450 lines says nothing.
const maxEntities = 40

// exploreChoice is a checked choice of the explorer.
type exploreChoice struct {
	Lang      report.Lang
	From, To  bibstat.Month
	Platforms []string // empty: every platform
	Metric    string
	Libraries []bibstat.LibraryID
	Counties  []string
	National  bool
	// ByPlatform draws one line per platform of the one library or area
	// chosen, rather than one per library or area.
	ByPlatform bool
	Format     string // "", "csv", "csv-machine" or "xlsx"
}

// query is the choice as a URL query, in one order, so that the page's
// links and its form give the same URL.
func (c exploreChoice) query() url.Values {
	v := url.Values{"lang": {string(c.Lang)}, "from": {c.From.String()}, "to": {c.To.String()}, "metric": {c.Metric}}
	v["platform"] = append([]string(nil), c.Platforms...)
	for _, l := range c.Libraries {
		v.Add("library", string(l))
	}
	v["county"] = append([]string(nil), c.Counties...)
	if c.National {
		v.Set("national", "1")
	}
	if c.ByPlatform {
		v.Set("by", "platform")
	}
	if c.Format != "" {
		v.Set("format", c.Format)
	}
	return v
}

// exploreOptions are what the user may choose from.
type exploreOptions struct {
	Months    []bibstat.Month // every month from the first with usage to the last
	Platforms []string
	Metrics   []string
	Libraries []LibraryInfo     // within the user's access
	Counties  []area            // within the user's access
	National  bool              // the user may choose the whole country
	register  []LibraryInfo     // every library, to tell an unknown one from a forbidden one
	names     map[string]string // every county's name, to say which one is refused
}

type area struct{ ID, Name string }

// choiceError is a choice the explorer refuses: Status is 400 or 403, Msg
// is in the page's language.
type choiceError struct {
	Status int
	Msg    string
}

func (e *choiceError) Error() string { return e.Msg }

// parseChoice checks q against opts for user u. An empty choice of whose
// usage gets the user's own: their library, their county, or the country.
func parseChoice(q url.Values, u User, opts exploreOptions, w exploreWords, lang report.Lang) (exploreChoice, error) {
	bad := func(format string, args ...any) error {
		return &choiceError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
	}
	c := exploreChoice{Lang: lang, Format: q.Get("format")}
	if len(opts.Months) == 0 {
		return c, &choiceError{Status: http.StatusOK, Msg: w.ErrNoData}
	}
	last := opts.Months[len(opts.Months)-1]
	c.From, c.To, c.Metric = max12(opts.Months), last, defaultMetric(opts.Metrics)
	if !slices.Contains([]string{"", "csv", "csv-machine", "xlsx"}, c.Format) {
		return c, bad(w.ErrFormat, c.Format)
	}
	for _, p := range []struct {
		name string
		m    *bibstat.Month
	}{{"from", &c.From}, {"to", &c.To}} {
		if s := q.Get(p.name); s != "" {
			m, err := bibstat.ParseMonth(s)
			if err != nil {
				return c, bad(w.ErrMonth, s)
			}
			*p.m = m
		}
	}
	if c.To.Before(c.From) {
		return c, bad("%s", w.ErrPeriod)
	}
	// Only months with data are shown: a period of centuries is no page.
	if c.To.Before(opts.Months[0]) || last.Before(c.From) {
		return c, &choiceError{Status: http.StatusOK, Msg: w.NoUsage}
	}
	c.From, c.To = latest(c.From, opts.Months[0]), earliest(c.To, last)
	chosen := uniq(q["platform"])
	for _, p := range chosen {
		if !slices.Contains(opts.Platforms, p) {
			return c, bad(w.ErrPlatform, p)
		}
	}
	// In the options' order, so that one choice has one URL.
	for _, p := range opts.Platforms {
		if slices.Contains(chosen, p) {
			c.Platforms = append(c.Platforms, p)
		}
	}
	if mt := q.Get("metric"); mt != "" {
		if !slices.Contains(opts.Metrics, mt) {
			return c, bad(w.ErrMetric, mt)
		}
		c.Metric = mt
	}
	if err := c.parseWhose(q, u, opts, w); err != nil {
		return c, err
	}
	switch q.Get("by") {
	case "", "entity":
	case "platform":
		if len(c.Libraries)+len(c.Counties)+btoi(c.National) != 1 {
			return c, bad("%s", w.ErrByOne)
		}
		c.ByPlatform = true
	default:
		return c, bad(w.ErrBy, q.Get("by"))
	}
	return c, nil
}

// parseWhose reads the libraries, counties and the country chosen.
func (c *exploreChoice) parseWhose(q url.Values, u User, opts exploreOptions, w exploreWords) error {
	forbidden := func(what string) error {
		return &choiceError{Status: http.StatusForbidden, Msg: fmt.Sprintf(w.ErrForbidden, what)}
	}
	for _, s := range uniq(q["library"]) {
		id, err := bibstat.ParseLibraryID(s)
		if err != nil || !opts.knows(id) {
			return &choiceError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(w.ErrLibrary, s)}
		}
		if !slices.ContainsFunc(opts.Libraries, func(l LibraryInfo) bool { return l.ID == id }) {
			i := slices.IndexFunc(opts.register, func(l LibraryInfo) bool { return l.ID == id })
			return forbidden(opts.register[i].Name + " (" + s + ")")
		}
		c.Libraries = append(c.Libraries, id)
	}
	for _, s := range uniq(q["county"]) {
		if !isCountyCode(s) {
			return &choiceError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(w.ErrCounty, s)}
		}
		if !slices.ContainsFunc(opts.Counties, func(a area) bool { return a.ID == s }) {
			return forbidden(cmpOr(opts.names[s], s))
		}
		c.Counties = append(c.Counties, s)
	}
	if n := q.Get("national"); n != "" {
		if !opts.National {
			return forbidden(w.WholeCountry)
		}
		c.National = true
	}
	if len(c.Libraries)+len(c.Counties) == 0 && !c.National {
		switch {
		case u.Role == RoleLibrary:
			c.Libraries = []bibstat.LibraryID{u.Library}
		case u.Role == RoleCounty:
			c.Counties = []string{u.County}
		default:
			c.National = opts.National
		}
	}
	// In the options' order, so that one choice has one URL.
	slices.SortFunc(c.Libraries, func(a, b bibstat.LibraryID) int {
		return slices.IndexFunc(opts.Libraries, func(l LibraryInfo) bool { return l.ID == a }) -
			slices.IndexFunc(opts.Libraries, func(l LibraryInfo) bool { return l.ID == b })
	})
	slices.Sort(c.Counties)
	if n := len(c.Libraries) + len(c.Counties); n > maxEntities {
		return &choiceError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(w.ErrTooMany, maxEntities)}
	}
	return nil
}

// knows: the register has the library. It tells a library that does not
// exist (400) from one the user may not see (403); the register's library
// numbers are no secret.
func (o exploreOptions) knows(id bibstat.LibraryID) bool {
	return slices.ContainsFunc(o.register, func(l LibraryInfo) bool { return l.ID == id })
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isCountyCode(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

func latest(a, b bibstat.Month) bibstat.Month {
	if a.Before(b) {
		return b
	}
	return a
}

func earliest(a, b bibstat.Month) bibstat.Month {
	if a.Before(b) {
		return a
	}
	return b
}

// max12 is the first of the last 12 months with usage.
func max12(months []bibstat.Month) bibstat.Month {
	return months[max(0, len(months)-12)]
}

// defaultMetric is Total_Item_Requests when there is usage of it: every
// kind of content has it.
func defaultMetric(metrics []string) string {
	if slices.Contains(metrics, "Total_Item_Requests") || len(metrics) == 0 {
		return "Total_Item_Requests"
	}
	return metrics[0]
}

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// exploreOptionsFor reads what u may choose from the marts and the register.
func (s *Server) exploreOptionsFor(ctx context.Context, u User) (exploreOptions, error) {
	var o exploreOptions
	var marts int
	if err := s.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_name = 'mart_national_month'`).Scan(&marts); err != nil || marts == 0 {
		return o, err // no marts yet: nothing to choose, which the page says
	}
	var err error
	if o.Platforms, err = s.strings(ctx, `SELECT DISTINCT platform FROM mart_national_month ORDER BY 1`); err != nil {
		return o, err
	}
	if o.Metrics, err = s.strings(ctx, `SELECT DISTINCT metric_type FROM mart_national_month ORDER BY 1`); err != nil {
		return o, err
	}
	var first, last sql.NullTime
	if err := s.cfg.DB.QueryRowContext(ctx, `SELECT min(month), max(month) FROM mart_national_month`).Scan(&first, &last); err != nil {
		return o, fmt.Errorf("explore months: %w", err)
	}
	if first.Valid {
		o.Months = bibstat.MonthsBetween(bibstat.MonthOf(first.Time), bibstat.MonthOf(last.Time))
	}
	libs, err := s.geo.Libraries(ctx)
	if err != nil {
		return o, err
	}
	o.register = libs
	for _, l := range libs {
		if CanSeeLibrary(ctx, s.geo, u, l.ID) {
			o.Libraries = append(o.Libraries, l)
		}
	}
	names, err := s.countyNames(ctx)
	if err != nil {
		return o, err
	}
	o.names = names
	for _, id := range countiesOf(libs) {
		if u.Role == RoleAdmin || (u.Role == RoleCounty && u.County == id) {
			o.Counties = append(o.Counties, area{ID: id, Name: cmpOr(names[id], id)})
		}
	}
	o.National = u.Role == RoleAdmin
	return o, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// countiesOf are the counties the register's libraries are in, in order.
func countiesOf(libs []LibraryInfo) []string {
	var out []string
	for _, l := range libs {
		if l.County != "" && !slices.Contains(out, l.County) {
			out = append(out, l.County)
		}
	}
	slices.Sort(out)
	return out
}

// countyNames are the names of the counties of today's structure.
func (s *Server) countyNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.cfg.DB.QueryContext(ctx, `SELECT county, name FROM counties WHERE valid_to IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("explore counties: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("explore counties: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

func (s *Server) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := s.cfg.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("explore options: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("explore options: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
