package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// table is a chart's numbers, or a table alone: one row per category (a
// month, a library), one column per series. The same numbers draw the
// chart and fill the accessible table after it.
type table struct {
	ID       string // element id of the chart and its heading
	Heading  string // names the metric: one metric per chart
	Intro    string // a sentence before the table, e.g. its denominator
	Explains string // the glossary anchor of the metric its figures are, or ""
	Caption  string
	RowHead  string // heading of the first column
	Series   []string
	Links    []string // per series, the glossary anchor of its metric, or ""
	Text     int      // how many series, from the first, are text (left-aligned)
	Rows     []tableRow
	values   [][]float64
	Line     bool   // a line chart (over time); otherwise bars
	NoChart  bool   // a table only
	Sortable bool   // the table sorts by any column
	XTitle   string // axis titles, with the unit in the y title
	YTitle   string
	// Charted is how many series, from the first, the chart draws (0: all);
	// the table always shows every series.
	Charted int
	JSON    template.JS
	Note    string // says the numbers are in the table
	Empty   string // shown instead when there are no numbers
}

type tableRow struct {
	Label, Link string // Link, when set, makes the label a link
	Cells       []string
	Sort        []string // per cell, the value sorting uses (a plain number), or ""
}

// addRow appends a row of values, formatted for the table with f; a NaN
// value is no value, shown as none.
func (t *table) addRow(label string, vals []float64, f func(float64) string) {
	r := tableRow{Label: label}
	for _, v := range vals {
		if math.IsNaN(v) {
			r.Cells, r.Sort = append(r.Cells, t.Empty), append(r.Sort, "")
			continue
		}
		r.Cells = append(r.Cells, f(v))
		r.Sort = append(r.Sort, fmt.Sprint(v))
	}
	t.Rows = append(t.Rows, r)
	t.values = append(t.values, vals)
}

// add appends a row whose cells are already written, with the values of
// the series the chart draws.
func (t *table) add(r tableRow, charted ...float64) {
	t.Rows = append(t.Rows, r)
	t.values = append(t.values, charted)
}

// render builds the chart with go-echarts and stores its option as JSON
// that is safe inside a <script> element: json.Marshal escapes <, > and &,
// so no vendor text can close the element, and the page's script treats it
// as data only.
func (t *table) render() error {
	if t.NoChart || len(t.Rows) == 0 {
		return nil
	}
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
			c.AddSeries(name, column(t, si, func(v any) opts.LineData { return opts.LineData{Value: v} }))
		}
		c.Validate()
		option = c.JSON()
	} else {
		c := charts.NewBar()
		c.SetGlobalOptions(global...)
		c.SetXAxis(labels)
		for si, name := range series {
			c.AddSeries(name, column(t, si, func(v any) opts.BarData { return opts.BarData{Value: v} }))
		}
		c.Validate()
		option = c.JSON()
	}
	t.axes(option, len(series) > 1)
	b, err := json.Marshal(option)
	if err != nil {
		return fmt.Errorf("chart %s: %w", t.ID, err)
	}
	t.JSON = template.JS(b)
	return nil
}

// axes titles both axes and keeps every label inside the chart: the grid
// contains the labels (a narrow phone screen clipped the first digit of
// "18 000"), the value axis's title names the unit, and the category
// labels never overlap. Bars lie down, names on the left, wrapped rather
// than cut: a phone has room for names down the screen, not across it.
func (t *table) axes(option map[string]any, legend bool) {
	bottom := 8
	if legend {
		bottom = 44
	}
	option["grid"] = map[string]any{"containLabel": true, "left": 8, "right": 24, "top": 40, "bottom": bottom}
	category := map[string]any{"type": "category", "data": xData(option), "name": t.XTitle,
		"axisLabel": map[string]any{"hideOverlap": true}}
	value := map[string]any{"type": "value", "name": t.YTitle}
	if t.Line {
		category["nameLocation"], category["nameGap"] = "middle", 28
		value["nameLocation"], value["nameGap"], value["nameTextStyle"] = "end", 14, map[string]any{"align": "left"}
		option["xAxis"], option["yAxis"] = []map[string]any{category}, []map[string]any{value}
		return
	}
	category["inverse"] = true // the first row on top, as in the table
	category["nameLocation"], category["nameGap"] = "start", 10
	category["nameTextStyle"] = map[string]any{"align": "left"}
	category["axisLabel"] = map[string]any{"width": 120, "overflow": "break", "interval": 0}
	value["nameLocation"], value["nameGap"] = "middle", 28
	option["grid"].(map[string]any)["bottom"] = bottom + 24
	option["yAxis"], option["xAxis"] = []map[string]any{category}, []map[string]any{value}
}

// xData is the category axis data go-echarts put in the option.
func xData(option map[string]any) any {
	b, err := json.Marshal(option["xAxis"])
	if err != nil {
		return nil
	}
	var axes []struct {
		Data any `json:"data"`
	}
	if json.Unmarshal(b, &axes) != nil || len(axes) == 0 {
		return nil
	}
	return axes[0].Data
}

// column is series si of t as chart data points. A value that is not
// there (NaN: a month without data) is ECharts' "-", a gap in the line,
// never a zero.
func column[T any](t *table, si int, point func(any) T) []T {
	out := make([]T, len(t.values))
	for i, row := range t.values {
		if math.IsNaN(row[si]) {
			out[i] = point("-")
		} else {
			out[i] = point(row[si])
		}
	}
	return out
}

// part is a table as a template draws it: with the page's words and root,
// and its rows' cells already drawn (Part).
type part struct {
	*table
	M    messages
	Root string
	Rows []partRow // the table's rows, shadowing table.Rows
}

type partRow struct {
	Label, Link string
	Cells       template.HTML // the row's cells, drawn by appendCells
}

// Part readies t for the templates: every row's cells are drawn here, as
// the template drew them (a cell per <td>, class "num" for a number, its
// sort value if any, the text escaped as html/template escapes), since a
// template action is a reflection call and the pages have hundreds of
// thousands of cells.
func (p page) Part(t *table) *part {
	for len(t.Links) < len(t.Series) {
		t.Links = append(t.Links, "")
	}
	pt := &part{table: t, M: p.M, Root: p.Root, Rows: make([]partRow, len(t.Rows))}
	var b []byte
	for i, r := range t.Rows {
		b = b[:0]
		for j, c := range r.Cells {
			sort := ""
			if j < len(r.Sort) {
				sort = r.Sort[j]
			}
			b = appendCell(b, c, sort, pt.Num(j))
		}
		pt.Rows[i] = partRow{Label: r.Label, Link: r.Link, Cells: template.HTML(b)}
	}
	return pt
}

// appendCell appends a table cell as the template
// <td{{if .Num}} class="num"{{end}}{{with .Sort}} data-sort="{{.}}"{{end}}>{{.Text}}</td>
// drew it.
func appendCell(b []byte, text, sort string, num bool) []byte {
	b = append(b, "<td"...)
	if num {
		b = append(b, ` class="num"`...)
	}
	if sort != "" {
		b = appendEscaped(append(b, ` data-sort="`...), sort)
		b = append(b, '"')
	}
	b = appendEscaped(append(b, '>'), text)
	return append(b, "</td>"...)
}

// appendEscaped appends s escaped as html/template escapes a string in
// text or in a quoted attribute (its htmlReplacementTable, escapes): those
// seven are ASCII, so a byte at a time is the same as its rune at a time,
// and other bytes, even ones that are not UTF-8, pass as they are.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if e := escapes[s[i]]; e != "" {
			b = append(b, e...)
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

var escapes = [256]string{0: "\uFFFD", '"': "&#34;", '&': "&amp;", '\'': "&#39;", '+': "&#43;", '<': "&lt;", '>': "&gt;"}

// Num says whether column i (of the series) holds numbers.
func (p *part) Num(i int) bool {
	return i >= p.Text
}
