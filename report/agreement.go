package report

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
)

type agreementRow struct {
	ID, Name string
	view     *agreementView
}

// agreementView is an agreement's value as the page shows it.
type agreementView struct {
	Vendor, Services, Period, Model, Cost, Uses, CostPerUse, CostPerInhabitant, Participation, UsesCounted string
	Formulas                                                                                               []string
	charts, tables                                                                                         []*table
	downloads                                                                                              []download
	figures                                                                                                []figureRow // for the downloads
}

// figureRow is one month's or year's figures of an agreement, for its downloads.
type figureRow struct {
	Period            string
	Cost              agreements.Money
	Uses              int64
	HasData           bool
	CostPerUse        agreements.Quotient
	Participants, Lib int
}

// agreements values every imported agreement over its whole period, by
// month and by year, beside the earlier agreements for the same services.
// A warehouse without an agreement registry has no agreements, not an
// error: List creates the registry's empty tables.
func (s *Site) agreements(ctx context.Context, m messages) ([]agreementRow, error) {
	w := &agreements.Warehouse{DB: s.DB}
	list, err := w.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("report agreements: %w", err)
	}
	names, err := s.countyNames(ctx)
	if err != nil {
		return nil, err
	}
	src := newValuationSource(w, list)
	for _, a := range list {
		if bibstat.CheckSegment(a.ID) != nil {
			return nil, fmt.Errorf("report agreements: id %q cannot name a page", a.ID)
		}
	}
	// Each agreement is valued some dozen times (its period, months,
	// years), in Go once the usage is read: across the cores.
	vals := make([]*agreements.Valuation, len(list))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, a := range list {
		g.Go(func() (err error) {
			vals[i], err = value(gctx, src, a, a.From, a.To)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	values := map[string]*agreements.Valuation{}
	for i, a := range list {
		values[a.ID] = vals[i]
	}
	out := make([]agreementRow, len(list))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, a := range list {
		g.Go(func() error {
			v := s.viewOf(m, a, values[a.ID], names)
			if err := s.overTime(gctx, m, src, a, v); err != nil {
				return err
			}
			v.tables = append(v.tables, s.renewal(m, a, list, values))
			v.downloads = agreementDownloads(m, a.ID)
			out[i] = agreementRow{ID: a.ID, Name: a.Name, view: v}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// value is agreements.Value, with a period outside the agreement as no valuation.
func value(ctx context.Context, w agreements.Source, a agreements.Agreement, first, last bibstat.Month) (*agreements.Valuation, error) {
	v, err := agreements.Value(ctx, w, a, first, last)
	if errors.Is(err, agreements.ErrOutsidePeriod) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report agreement %s: %w", a.ID, err)
	}
	return v, nil
}

func (s *Site) viewOf(m messages, a agreements.Agreement, v *agreements.Valuation, counties map[string]string) *agreementView {
	var services []string
	for _, p := range a.Platforms {
		services = append(services, s.platform(p))
	}
	metrics := a.UseMetrics
	if len(metrics) == 0 {
		metrics = agreements.DefaultMetrics[a.DataType]
	}
	var labels []string
	for _, mt := range metrics {
		labels = append(labels, lowerFirst(m.metric(mt)))
	}
	view := &agreementView{Vendor: a.Vendor, Services: strings.Join(services, ", "),
		Period: m.formatMonth(a.From.First()) + "–" + m.formatMonth(a.To.First()), Model: m.Models[string(a.Model)],
		UsesCounted: fmt.Sprintf(m.UsesCounted, strings.Join(labels, ", "))}
	if v == nil {
		view.Cost, view.Uses, view.CostPerUse, view.CostPerInhabitant = m.NoData, m.NoData, m.NoData, m.NoData
		return view
	}
	view.Cost = m.formatMoney(v.Cost)
	view.Uses = m.NoData
	if v.HasData {
		view.Uses = m.formatInt(v.Uses)
	}
	view.CostPerUse, view.CostPerInhabitant = m.formatQuotient(v.CostPerUse), m.formatQuotient(v.CostPerInhabitant)
	view.Participation = fmt.Sprintf(m.ParticipationText, v.Libraries, m.formatInt(v.Population))
	view.Formulas = []string{
		fmt.Sprintf(m.FormulaCost, m.formatMoney(v.Cost), m.months(v.Months)),
		fmt.Sprintf(m.FormulaUses, strings.Join(labels, ", "), view.Uses),
		fmt.Sprintf(m.FormulaCostPerUse, m.formatMoney(v.Cost), view.Uses, view.CostPerUse),
		fmt.Sprintf(m.FormulaCostPerInhabitant, m.formatMoney(v.Cost), m.formatInt(v.Population), view.CostPerInhabitant),
		fmt.Sprintf(m.FormulaAllocated, view.Model),
	}
	shares := &table{ID: "shares", Heading: m.SharesHeading, Caption: m.SharesCaption, RowHead: m.Participant,
		Series: []string{m.Allocated, m.MonthsTaking, m.OwnUses, m.OwnCostPerUse}, Charted: 1, Sortable: true,
		XTitle: m.Participant, YTitle: m.AxisNOK, Empty: m.NoData}
	for _, pv := range v.Participants {
		name := pv.Name
		if c := pv.Participant.County; c != "" {
			name = m.County + " " + c
			if n := counties[c]; n != "" {
				name = n
			}
		}
		uses, usesSort := m.NoData, ""
		if pv.HasData {
			uses, usesSort = m.formatInt(pv.Uses), fmt.Sprint(pv.Uses)
		}
		cpu, cpuSort := m.formatQuotient(pv.CostPerUse), ""
		if v, ok := quotientValue(pv.CostPerUse); ok {
			cpuSort = fmt.Sprint(v)
		}
		shares.add(tableRow{Label: name, Cells: []string{m.formatMoney(pv.Allocated), m.formatInt(int64(pv.Months)), uses, cpu},
			Sort: []string{fmt.Sprint(float64(pv.Allocated) / 100), fmt.Sprint(pv.Months), usesSort, cpuSort}}, float64(pv.Allocated)/100)
	}
	view.charts = []*table{shares}
	return view
}

// overTime adds the agreement's cost per use by month and by year.
func (s *Site) overTime(ctx context.Context, m messages, w agreements.Source, a agreements.Agreement, view *agreementView) error {
	byMonth := &table{ID: "cpu-month", Heading: m.CostByMonthHeading, Caption: m.CostByMonthCaption, RowHead: m.Month,
		Series: []string{m.CostPerUse, m.Cost, m.Uses}, Charted: 1, Line: true, XTitle: m.AxisMonth, YTitle: m.AxisNOKPerUse, Empty: m.NoData}
	byYear := &table{ID: "cpu-year", Heading: m.CostByYearHeading, Caption: m.CostByYearCaption, RowHead: m.Year,
		Series: byMonth.Series, Charted: 1, XTitle: m.Year, YTitle: m.AxisNOKPerUse, Empty: m.NoData}
	add := func(t *table, label string, first, last bibstat.Month) error {
		v, err := value(ctx, w, a, first, last)
		if err != nil || v == nil {
			return err
		}
		f := figureRow{Period: label, Cost: v.Cost, Uses: v.Uses, HasData: v.HasData, CostPerUse: v.CostPerUse, Lib: v.Libraries}
		view.figures = append(view.figures, f)
		cpu, uses := math.NaN(), math.NaN()
		if q, ok := quotientValue(v.CostPerUse); ok {
			cpu = q
		}
		if v.HasData {
			uses = float64(v.Uses)
		}
		t.addRow(label, []float64{cpu, float64(v.Cost) / 100, uses}, m.formatNumber)
		r := &t.Rows[len(t.Rows)-1]
		r.Cells[0], r.Cells[1] = m.formatQuotient(v.CostPerUse), m.formatMoney(v.Cost)
		return nil
	}
	for mo := a.From; !a.To.Before(mo); mo = mo.Add(1) {
		if err := add(byMonth, m.formatMonth(mo.First()), mo, mo); err != nil {
			return err
		}
	}
	for y := a.From.Year; y <= a.To.Year; y++ {
		if err := add(byYear, fmt.Sprint(y), bibstat.Month{Year: y, Mon: 1}, bibstat.Month{Year: y, Mon: 12}); err != nil {
			return err
		}
	}
	view.charts = append(view.charts, byMonth, byYear)
	return nil
}

// renewal sets the agreement beside the earlier agreements for any of its
// services that began within three years before it: what a renewal is
// weighed against.
func (s *Site) renewal(m messages, a agreements.Agreement, list []agreements.Agreement, values map[string]*agreements.Valuation) *table {
	t := &table{ID: "renewal", Heading: m.RenewalHeading, Caption: m.RenewalCaption, RowHead: m.Agreement,
		Series: []string{m.Period, m.Cost, m.Uses, m.CostPerUse, m.Participation}, NoChart: true, Sortable: true, Intro: m.NoEarlier, Text: 1}
	earliest := a.From.Add(-36)
	for _, b := range append([]agreements.Agreement{a}, list...) {
		if b.ID == a.ID && len(t.Rows) > 0 {
			continue
		}
		if b.ID != a.ID && (!b.From.Before(a.From) || b.From.Before(earliest) || !sharesPlatform(a, b)) {
			continue
		}
		if b.ID != a.ID {
			t.Intro = ""
		}
		row := tableRow{Label: b.Name, Link: "avtale/" + b.ID + ".html",
			Cells: []string{m.formatMonth(b.From.First()) + "–" + m.formatMonth(b.To.First()), m.NoData, m.NoData, m.NoData, m.NoData},
			Sort:  []string{b.From.String(), "", "", "", ""}}
		if v := values[b.ID]; v != nil {
			row.Cells[1], row.Sort[1] = m.formatMoney(v.Cost), fmt.Sprint(int64(v.Cost))
			if v.HasData {
				row.Cells[2], row.Sort[2] = m.formatInt(v.Uses), fmt.Sprint(v.Uses)
			}
			row.Cells[3] = m.formatQuotient(v.CostPerUse)
			if q, ok := quotientValue(v.CostPerUse); ok {
				row.Sort[3] = fmt.Sprint(q)
			}
			row.Cells[4], row.Sort[4] = m.formatInt(int64(v.Libraries)), fmt.Sprint(v.Libraries)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func sharesPlatform(a, b agreements.Agreement) bool {
	for _, p := range a.Platforms {
		if slices.Contains(b.Platforms, p) {
			return true
		}
	}
	return false
}
