package report

import (
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// table is a chart's numbers: one row per category (a month, a library),
// one column per series. The same numbers draw the chart and fill the
// accessible table beside it.
type table struct {
	ID      string // element id of the chart and its heading
	Heading string
	Caption string
	RowHead string // heading of the first column
	Series  []string
	Rows    []tableRow
	values  [][]float64
	Line    bool // a line chart (over time); otherwise bars
	// Charted is how many series, from the first, the chart draws (0: all);
	// the table always shows every series.
	Charted int
	JSON    template.JS
	Note    string // says the numbers are in the table
	Empty   string // shown instead when there are no numbers
}

type tableRow struct {
	Label string
	Cells []string
}

// addRow appends a row of values, formatted for the table with f.
func (t *table) addRow(label string, vals []float64, f func(float64) string) {
	r := tableRow{Label: label}
	for _, v := range vals {
		r.Cells = append(r.Cells, f(v))
	}
	t.Rows = append(t.Rows, r)
	t.values = append(t.values, vals)
}

// render builds the chart with go-echarts and stores its option as JSON
// that is safe inside a <script> element: json.Marshal escapes <, > and &,
// so no vendor text can close the element, and the page's script treats it
// as data only.
func (t *table) render() error {
	series := t.Series
	if t.Charted > 0 {
		series = series[:t.Charted]
	}
	labels := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		labels[i] = r.Label
	}
	global := []charts.GlobalOpts{
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(series) > 1), Bottom: "0", Type: "scroll"}),
		charts.WithAnimation(false),
	}
	var option map[string]any
	if t.Line {
		c := charts.NewLine()
		c.SetGlobalOptions(global...)
		c.SetXAxis(labels)
		for si, name := range series {
			c.AddSeries(name, column(t, si, func(v float64) opts.LineData { return opts.LineData{Value: v} }))
		}
		c.Validate()
		option = c.JSON()
	} else {
		c := charts.NewBar()
		c.SetGlobalOptions(global...)
		c.SetXAxis(labels)
		for si, name := range series {
			c.AddSeries(name, column(t, si, func(v float64) opts.BarData { return opts.BarData{Value: v} }))
		}
		c.Validate()
		option = c.JSON()
	}
	b, err := json.Marshal(option)
	if err != nil {
		return fmt.Errorf("chart %s: %w", t.ID, err)
	}
	t.JSON = template.JS(b)
	return nil
}

// column is series si of t as chart data points.
func column[T any](t *table, si int, point func(float64) T) []T {
	out := make([]T, len(t.values))
	for i, row := range t.values {
		out[i] = point(row[si])
	}
	return out
}
