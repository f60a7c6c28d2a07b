package report

import (
	"html/template"
	"time"

	"github.com/bibliotek24/bibstat/agreements"
)

// What the portal (package server) shares with the site, so that its
// explorer says and writes things as the site does: the words, the
// formatting, the charts and the usage downloads.

// Messages is one language's words.
type Messages = messages

// Catalog returns the words of lang; ok is false for a language the site lacks.
func Catalog(lang Lang) (Messages, bool) {
	m, ok := catalog[lang]
	return m, ok
}

// FormatInt writes n with the language's thousands separator.
func (m messages) FormatInt(n int64) string { return m.formatInt(n) }

// FormatNumber writes a mart figure, which may hold a pooled fraction, as a whole number.
func (m messages) FormatNumber(v float64) string { return m.formatNumber(v) }

// FormatMonth writes a month as "jan. 2025".
func (m messages) FormatMonth(t time.Time) string { return m.formatMonth(t) }

// FormatMoney writes an amount in the language's way.
func (m messages) FormatMoney(v agreements.Money) string { return m.formatMoney(v) }

// FormatQuotient writes a cost per use or per inhabitant, or why there is none.
func (m messages) FormatQuotient(q agreements.Quotient) string { return m.formatQuotient(q) }

// FormatTime writes t in Europe/Oslo with the zone's name.
func (m messages) FormatTime(t time.Time) string { return m.formatTime(t) }

// Metric is a metric's label (an unknown one keeps its COUNTER name).
func (m messages) Metric(mt string) string { return m.metric(mt) }

// GlossaryAnchor is the fragment of ordliste.html that explains metric.
func GlossaryAnchor(metric string) string { return anchor(metric) }

// UsageRow is one row of a usage download: a library's usage of a
// platform's metric in a month (ID empty for usage of no one library).
type UsageRow struct {
	ID, Name                  string
	Platform, Release, Metric string
	Month                     time.Time
	Count                     int64
	Pooled, Total             float64
}

func usageSheetOf(rows []UsageRow, platform func(string) string) sheet {
	sh := sheet{platform: platform}
	for _, r := range rows {
		sh.rows = append(sh.rows, libraryUsage{r.ID, r.Name, usageRow{Platform: r.Platform, Release: r.Release,
			Metric: r.Metric, Month: r.Month, Count: r.Count, Pooled: r.Pooled, Total: r.Total}})
	}
	return sh
}

// UsageCSV writes rows as the site's CSV downloads: for spreadsheets in
// m's language, or for machines (",", ".", COUNTER names).
func UsageCSV(m Messages, platform func(string) string, rows []UsageRow, machine bool) ([]byte, error) {
	return usageSheetOf(rows, platform).csv(m, machine)
}

// UsageXLSX writes rows as the site's XLSX download.
func UsageXLSX(m Messages, platform func(string) string, rows []UsageRow) ([]byte, error) {
	return usageSheetOf(rows, platform).xlsx(m)
}

// LineChart is the ECharts option of a line chart as the site draws it
// (axis titles, labels kept inside), safe inside a <script> element; values
// are per label and series, NaN for none.
func LineChart(id, xTitle, yTitle string, labels, series []string, values [][]float64) (template.JS, error) {
	t := &table{ID: id, Line: true, XTitle: xTitle, YTitle: yTitle, Series: series, values: values}
	for _, l := range labels {
		t.Rows = append(t.Rows, tableRow{Label: l})
	}
	if err := t.render(); err != nil {
		return "", err
	}
	return t.JSON, nil
}
