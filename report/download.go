package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// usageRow is one row of a download: usage per platform, data type, metric and month.
type usageRow struct {
	Platform, DataType, Release, Metric string
	Month                               time.Time
	Count                               int64
}

// Scope selects whose usage a download holds: one library, or all (the nation).
type Scope struct {
	Name      string // shown in headers, e.g. the library's name
	Library   string // library id; "" means every library
	ISIL      string // for the COUNTER header
	FileStem  string // file name without extension
	Directory string // relative to the site root
}

// usage reads the consolidated usage of a scope from the facts.
func (s *Site) usage(ctx context.Context, sc Scope) ([]usageRow, error) {
	q := `SELECT platform, coalesce(data_type, ''), coalesce(release, ''), metric_type, month, sum(count)
		FROM facts WHERE (? = '' OR library_id = ?)
		GROUP BY ALL ORDER BY ALL`
	rows, err := s.DB.QueryContext(ctx, q, sc.Library, sc.Library)
	if err != nil {
		return nil, fmt.Errorf("report usage %s: %w", sc.FileStem, err)
	}
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		if err := rows.Scan(&r.Platform, &r.DataType, &r.Release, &r.Metric, &r.Month, &r.Count); err != nil {
			return nil, fmt.Errorf("report usage %s: %w", sc.FileStem, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// writeDownloads writes the scope's usage as CSV, XLSX, COUNTER R5.1 TSV and
// Parquet, and returns the file names relative to the scope's directory.
func (s *Site) writeDownloads(ctx context.Context, m messages, sc Scope) ([]download, error) {
	rows, err := s.usage(ctx, sc)
	if err != nil {
		return nil, err
	}
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

var csvHeader = []string{"month", "platform", "data_type", "release", "metric_type", "count"}

func usageCSV(rows []usageRow) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads UTF-8 only with a BOM
	w := csv.NewWriter(&buf)
	if err := w.Write(csvHeader); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := w.Write([]string{r.Month.Format("2006-01"), safeCell(r.Platform), safeCell(r.DataType),
			safeCell(r.Release), safeCell(r.Metric), fmt.Sprint(r.Count)}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// safeCell keeps vendor text from being read as a formula by a spreadsheet:
// a cell that starts with = + - @ (or a tab or CR, which some spreadsheets
// skip before looking) gets a leading apostrophe.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
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
		if err := sw.SetRow(cell, []any{r.Month.Format("2006-01"), safeCell(r.Platform), safeCell(r.DataType),
			safeCell(r.Release), safeCell(r.Metric), r.Count}); err != nil {
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

// usageCOUNTER writes R5 and R5.1 usage as an R5.1 Platform Report in
// tabular form: the 13-row header, a blank row, column headings, one row per
// platform × data type × metric with a column per month. R4 usage has other
// metrics and stays out.
func usageCOUNTER(sc Scope, rows []usageRow, now time.Time) ([]byte, error) {
	type key struct{ platform, dataType, metric string }
	var keys []key
	counts := map[key]map[time.Time]int64{}
	var first, last time.Time
	metrics := map[string]bool{}
	for _, r := range rows {
		if r.Release != "5" && r.Release != "5.1" {
			continue
		}
		k := key{r.Platform, r.DataType, r.Metric}
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
	for _, mt := range []string{"Searches_Platform", "Total_Item_Investigations", "Total_Item_Requests",
		"Unique_Item_Investigations", "Unique_Item_Requests", "Unique_Title_Investigations", "Unique_Title_Requests"} {
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
		fmt.Fprintf(&buf, "%s\t%s\t%s\t%d", tsvCell(k.platform), tsvCell(k.dataType), tsvCell(k.metric), total)
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

// Execer is what Parquet downloads need: DuckDB writes them itself.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Site) usageParquet(ctx context.Context, sc Scope, path string) error {
	ex, ok := s.DB.(Execer)
	if !ok {
		return fmt.Errorf("download %s: the warehouse cannot write Parquet", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	q := `COPY (SELECT library_id, platform, data_type, release, metric_type, month, sum(count) AS count
		FROM facts WHERE ('` + sqlString(sc.Library) + `' = '' OR library_id = '` + sqlString(sc.Library) + `')
		GROUP BY ALL ORDER BY ALL) TO '` + sqlString(tmp) + `' (FORMAT parquet)`
	if _, err := ex.ExecContext(ctx, q); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("download %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// sqlString escapes s for a single-quoted SQL literal (COPY takes no parameters).
func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }
