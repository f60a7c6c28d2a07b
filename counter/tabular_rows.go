package counter

// The data rows: one usage row per month cell.

import (
	"bytes"
	"fmt"
	"io"
)

// body reads the data rows.
//
// A summary row ("Total for all journals", "All Platforms") repeats the
// other rows' usage: it is never loaded, and it is not counted in
// Document.Skipped either, since no use is lost by leaving it out. A row
// whose metric has no Metric_Type is set aside: its counts are Skipped.
func (t *tab) body() error {
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
				t.summaryUsage = t.summaryUsage || t.hasUsage(cells)
				t.warnOnce("summary:"+name, "line %d: summary row %q skipped", t.src.line(), name)
				continue
			}
		}
		t.dataRows++
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
		if why := t.metric(cells); why != "" {
			if err := t.skipRow(cells, why); err != nil {
				return err
			}
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
			n, ok, err := t.count(cells, i)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := t.sink.add(r, c.month, c.first, n); err != nil {
				return err
			}
			sum += n // cannot wrap: the sink refuses a document total that would
		}
		t.checkTotal(cells, sum)
	}
}

// checkTotal warns when a row's Reporting_Period_Total is not the sum of
// its months. The total is never loaded, so a bad one is only a warning.
func (t *tab) checkTotal(cells [][]byte, sum int64) {
	if t.totalCol < 0 || t.totalCol >= len(cells) || len(t.monthCols) == 0 {
		return
	}
	if tot, err := parseCount(cells[t.totalCol]); err == nil && tot != sum && len(bytes.TrimSpace(cells[t.totalCol])) > 0 {
		t.doc.warnf("line %d: Reporting_Period_Total is %d but the months add up to %d", t.src.line(), tot, sum)
	}
}

// count reads the count in month cell i. A value that is not a count is a
// *CellError, or, under AcceptPartial, a cell left out (ok false) and
// counted in Skipped, with a warning naming it.
func (t *tab) count(cells [][]byte, i int) (n int64, ok bool, err error) {
	n, err = parseCount(cells[i])
	if err == nil {
		return n, true, nil
	}
	ce := &CellError{Name: t.opts.Name, Row: t.src.line(), Column: t.cols[i].heading,
		Value: truncate(string(bytes.TrimSpace(cells[i])), 80), Err: err}
	if !t.opts.AcceptPartial {
		return 0, false, ce
	}
	// One skip reason for every bad cell, so that a file of a million of
	// them keeps one entry in the sink; each cell's own warning is capped
	// by warnf.
	t.sink.skip(1, "cells that are not counts are left out (accept partial)")
	t.doc.warnf("%v; left out", ce)
	return 0, false, nil
}

// hasUsage says whether a (summary) row has a month other than 0; a cell
// that is not a count counts as usage, since it is not a zero.
func (t *tab) hasUsage(cells [][]byte) bool {
	for _, i := range t.monthCols {
		if i < len(cells) {
			if n, err := parseCount(cells[i]); err != nil || n > 0 {
				return true
			}
		}
	}
	return false
}

// skipRow sets aside a row's counts, which are read (a bad one is an
// error as anywhere) but not loaded, for why.
func (t *tab) skipRow(cells [][]byte, why string) error {
	var n int64
	for _, i := range t.monthCols {
		if i >= len(cells) {
			break
		}
		c, ok, err := t.count(cells, i)
		if err != nil {
			return err
		}
		if ok && c > 0 {
			n++
		}
	}
	if n > 0 {
		t.sink.skip(n, why)
	} else {
		t.warnOnce(why, "%s", why)
	}
	return nil
}

// metric sets the row's Metric_Type from its column or, in R4, the report
// and the row's User Activity or Access Denied Category. It returns why
// the row is set aside, or "". An R5 name that is not a Metric_Type is
// left to the sink, which sets such counts aside for every reader.
func (t *tab) metric(cells [][]byte) string {
	r := &t.row
	if !t.r4 {
		var m []byte
		if t.metricCol < len(cells) {
			m = bytes.TrimSpace(cells[t.metricCol])
		}
		if len(m) == 0 {
			return "rows without a Metric_Type are not loaded"
		}
		if string(m) != r.MetricType { // no allocation while the metric repeats
			r.MetricType = string(m)
		}
		return ""
	}
	activity := cell(cells, t.metricCol)
	if r.MetricType = r4Metric(t.doc.ReportID, activity); r.MetricType != "" {
		return ""
	}
	what := "User Activity"
	if r4Reports[t.doc.ReportID].denials {
		what = "Access Denied Category"
	}
	return fmt.Sprintf("R4 %s %s %q has no R5 Metric_Type; its counts are not loaded", t.doc.ReportID, what, truncate(activity, 80))
}
