package report

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/counter"
)

// counterDownload is the scope's COUNTER R5.1 download: kept apart from the
// spreadsheet downloads because it follows the Code of Practice, not the
// reader's language.
func (s *Site) counterDownload(ctx context.Context, sc Scope, rows []usageRow) ([]byte, error) {
	return usageCOUNTER(sc, rows, s.now())
}

// usageCOUNTER writes usage as an R5.1 Platform Report in tabular form: the
// 13-row header, a blank row, column headings, one row per platform ×
// metric with a column per month. Counts are the usage attributed to the
// scope (COUNTER counts are whole: pooled shares stay in the other
// downloads). The marts keep no Data_Type, so that column is empty. R4
// usage has other metrics and stays out.
func usageCOUNTER(sc Scope, rows []usageRow, now time.Time) ([]byte, error) {
	type key struct{ platform, metric string }
	var keys []key
	counts := map[key]map[time.Time]int64{}
	var first, last time.Time
	metrics := map[string]bool{}
	for _, r := range rows {
		if r.Release == "4" {
			continue
		}
		k := key{r.Platform, r.Metric}
		if counts[k] == nil {
			counts[k] = map[time.Time]int64{}
			keys = append(keys, k)
		}
		counts[k][r.Month] += r.Count
		metrics[r.Metric] = true
		if first.IsZero() || r.Month.Before(first) {
			first = r.Month
		}
		if r.Month.After(last) {
			last = r.Month
		}
	}
	var months []time.Time
	for mo := first; !first.IsZero() && !mo.After(last); mo = mo.AddDate(0, 1, 0) {
		months = append(months, mo)
	}
	var metricList []string
	for _, mt := range append([]string{counter.SearchesPlatform}, counter.UsageMetrics...) {
		if metrics[mt] {
			metricList = append(metricList, mt)
		}
	}
	period := ""
	if !first.IsZero() {
		period = fmt.Sprintf("Begin_Date=%s; End_Date=%s", first.Format(time.DateOnly), last.AddDate(0, 1, -1).Format(time.DateOnly))
	}
	institutionID := ""
	if sc.ISIL != "" {
		institutionID = "ISIL:" + sc.ISIL
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	header := [][2]string{
		{"Report_Name", "Platform Report"}, {"Report_ID", "PR"}, {"Release", "5.1"},
		{"Institution_Name", tsvCell(sc.Name)}, {"Institution_ID", institutionID},
		{"Metric_Types", strings.Join(metricList, "; ")}, {"Report_Filters", ""},
		{"Report_Attributes", ""}, {"Exceptions", ""}, {"Reporting_Period", period},
		{"Created", now.UTC().Format(time.RFC3339)}, {"Created_By", "BibStat (Bibliotek24)"}, {"Registry_Record", ""},
	}
	for _, h := range header {
		buf.WriteString(h[0] + "\t" + h[1] + "\r\n")
	}
	buf.WriteString("\r\n")
	buf.WriteString("Platform\tData_Type\tMetric_Type\tReporting_Period_Total")
	for _, mo := range months {
		buf.WriteString("\t" + mo.Format("Jan-2006"))
	}
	buf.WriteString("\r\n")
	for _, k := range keys {
		var total int64
		for _, n := range counts[k] {
			total += n
		}
		if total == 0 {
			continue // COUNTER omits rows whose total is zero
		}
		fmt.Fprintf(&buf, "%s\t\t%s\t%d", tsvCell(k.platform), tsvCell(k.metric), total)
		for _, mo := range months {
			fmt.Fprintf(&buf, "\t%d", counts[k][mo])
		}
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), nil
}

// tsvCell keeps a value on its own cell: tabs and line breaks become spaces,
// and it cannot start a formula.
func tsvCell(s string) string {
	return safeCell(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s))
}
