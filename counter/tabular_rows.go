package counter

// The data rows: one usage row per month cell.

import (
	"bytes"
	"io"
)

// body reads the data rows.
func (t *tab) body() error {
	d := t.doc
	r := &t.row
	ncols := len(t.cols)
	for {
		cells, err := t.src.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if allEmpty(cells) {
			continue
		}
		if len(cells) > ncols && !allEmpty(cells[ncols:]) {
			t.warnOnce("extra", "line %d: more cells than column headings; the extra cells are ignored", t.src.line())
		}
		if t.nameCol >= 0 {
			if name := cell(cells, t.nameCol); isSummary(name) {
				t.warnOnce("summary:"+name, "line %d: summary row %q skipped", t.src.line(), name)
				continue
			}
		}
		for _, i := range t.textCols {
			c := &t.cols[i]
			var b []byte
			if i < len(cells) {
				b = bytes.TrimSpace(cells[i])
			}
			if string(b) != c.last {
				c.last = string(b)
			}
			*c.dst = c.last
		}
		if err := t.metric(cells); err != nil {
			return err
		}
		if r.MetricType == "" {
			continue
		}
		if t.yopCol >= 0 {
			y, ok, err := parseYOP(cell(cells, t.yopCol))
			if err != nil {
				t.warnOnce("yop", "line %d: %v; YOP left empty", t.src.line(), err)
			}
			r.YOP, r.HasYOP = y, ok
		}
		var sum int64
		for _, i := range t.monthCols {
			if i >= len(cells) {
				break
			}
			c := &t.cols[i]
			n, err := parseCount(cells[i])
			if err != nil {
				t.warnOnce("count", "line %d column %q: %v; counted as 0", t.src.line(), c.heading, err)
				continue
			}
			sum += n
			if err := t.sink.add(r, c.month, c.first, n); err != nil {
				return err
			}
		}
		if t.totalCol >= 0 && t.totalCol < len(cells) && len(t.monthCols) > 0 {
			if tot, err := parseCount(cells[t.totalCol]); err == nil && tot != sum && len(bytes.TrimSpace(cells[t.totalCol])) > 0 {
				d.warnf("line %d: Reporting_Period_Total is %d but the months add up to %d", t.src.line(), tot, sum)
			}
		}
	}
}

// metric sets the row's Metric_Type from its column or, in R4, the report.
func (t *tab) metric(cells [][]byte) error {
	r := &t.row
	if !t.r4 {
		var m []byte
		if t.metricCol < len(cells) {
			m = bytes.TrimSpace(cells[t.metricCol])
		}
		if len(m) == 0 {
			t.warnOnce("nometric", "line %d: row without Metric_Type skipped", t.src.line())
		}
		if string(m) != r.MetricType { // no allocation while the metric repeats
			r.MetricType = string(m)
		}
		return nil
	}
	activity := cell(cells, t.metricCol)
	r.MetricType = r4Metric(t.doc.ReportID, activity)
	if r.MetricType == "" {
		t.warnOnce("r4:"+activity, "line %d: %s activity %q has no Metric_Type; skipped", t.src.line(), t.doc.ReportID, activity)
	}
	return nil
}
