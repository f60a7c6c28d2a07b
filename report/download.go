package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/bibliotek24/bibstat/counter"
)

// writeDownloads writes the scope's usage as CSV, XLSX, COUNTER R5.1 TSV and
// Parquet, and returns the file names relative to the scope's directory.
func (s *Site) writeDownloads(ctx context.Context, m messages, sc Scope, rows []usageRow) ([]download, error) {
	dir := filepath.Join(s.Out, sc.Directory)
	files := []struct {
		ext, label string
		write      func() ([]byte, error)
	}{
		{"csv", "CSV", func() ([]byte, error) { return usageCSV(rows) }},
		{"xlsx", "Excel (XLSX)", func() ([]byte, error) { return usageXLSX(m, rows) }},
		{"tsv", "COUNTER R5.1 (TSV)", func() ([]byte, error) { return usageCOUNTER(sc, rows, s.now()) }},
	}
	var out []download
	for _, f := range files {
		b, err := f.write()
		if err != nil {
			return nil, fmt.Errorf("download %s.%s: %w", sc.FileStem, f.ext, err)
		}
		name := sc.FileStem + "." + f.ext
		if err := writeFileAtomic(filepath.Join(dir, name), b); err != nil {
			return nil, err
		}
		out = append(out, download{Name: name, Label: f.label})
	}
	name := sc.FileStem + ".parquet"
	if err := s.usageParquet(ctx, sc, filepath.Join(dir, name)); err != nil {
		return nil, err
	}
	return append(out, download{Name: name, Label: "Parquet"}), nil
}

type download struct{ Name, Label string }

var csvHeader = []string{"month", "platform", "release", "metric_type", "count", "pooled", "total"}

func usageCSV(rows []usageRow) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads UTF-8 only with a BOM
	w := csv.NewWriter(&buf)
	if err := w.Write(csvHeader); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := w.Write([]string{r.Month.Format("2006-01"), safeCell(r.Platform), safeCell(r.Release),
			safeCell(r.Metric), fmt.Sprint(r.Count), fmt.Sprint(r.Pooled), fmt.Sprint(r.Total)}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// safeCell keeps vendor text from being read as a formula by a spreadsheet:
// a cell that starts with = + - @ (or a tab or CR, which some spreadsheets
// skip before looking), or their full-width forms, which some spreadsheets
// fold to ASCII, gets a leading apostrophe.
func safeCell(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if s != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return "'" + s
	}
	return s
}

func usageXLSX(m messages, rows []usageRow) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := m.Usage
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	head := make([]any, len(csvHeader))
	for i, h := range csvHeader {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		// Text cells are written as strings (never formulas); the count as a number.
		if err := sw.SetRow(cell, []any{r.Month.Format("2006-01"), safeCell(r.Platform), safeCell(r.Release),
			safeCell(r.Metric), r.Count, r.Pooled, r.Total}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// usageParquet has DuckDB write the scope's usage rows, as the other
// downloads hold them, straight from the marts.
func (s *Site) usageParquet(ctx context.Context, sc Scope, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	// COPY takes no parameters: the scope id is put in as an escaped literal.
	query := strings.Replace(usageQueries[sc.Kind], "?", "'"+sqlString(sc.ID)+"'", 1)
	if _, err := s.DB.ExecContext(ctx, `COPY (`+query+`) TO '`+sqlString(tmp)+`' (FORMAT parquet)`); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("download %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// sqlString escapes s for a single-quoted SQL literal (COPY takes no parameters).
func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }
