package report

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// The comparison's downloads: a row per library, platform, metric and
// month, as the mart has it. A figure a source does not have is an empty
// cell, never 0; the percent is empty where it cannot be reckoned.

// comparisonMachineHeader is the machine CSV's header: English, COUNTER's names.
var comparisonMachineHeader = []string{"Library_ID", "Library_Name", "Platform", "Month", "Metric_Type",
	"Vendor_Count", "Login_Count", "Difference", "Difference_Percent", "Counted_Source"}

func (m messages) comparisonHeader() []string {
	w := m.Comparison
	return []string{m.ColLibraryNumber, m.ColLibrary, m.Platform, m.Month, m.ColMetric,
		w.Vendor, w.Login, w.Difference, w.DifferencePercent, w.CountedColumn}
}

// comparisonSheet is a comparison download's rows and how it names
// platforms and libraries.
type comparisonSheet struct {
	rows     []ComparisonRow
	platform func(id string) string
	library  func(id string) string
}

// ComparisonCSV writes rows as the site's comparison CSV: for spreadsheets
// in m's language, or for machines (",", ".", COUNTER names and ids).
func ComparisonCSV(m Messages, platform, library func(string) string, rows []ComparisonRow, machine bool) ([]byte, error) {
	return comparisonSheet{rows, platform, library}.csv(m, machine)
}

// ComparisonXLSX writes rows as the site's comparison XLSX.
func ComparisonXLSX(m Messages, platform, library func(string) string, rows []ComparisonRow) ([]byte, error) {
	return comparisonSheet{rows, platform, library}.xlsx(m)
}

func (sh comparisonSheet) csv(m messages, machine bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads UTF-8 only with a BOM
	w := csv.NewWriter(&buf)
	header := m.comparisonHeader()
	num := func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", m.Decimal, 1) }
	if m.Decimal == "," {
		w.Comma = ';'
	}
	if machine {
		w.Comma, header = ',', comparisonMachineHeader
		num = func(v float64) string { return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64) }
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range sh.rows {
		platform, metric, counted := r.Platform, r.Metric, r.Counted
		if !machine {
			platform, metric, counted = sh.platform(r.Platform), m.metric(r.Metric), m.countedName(r.Counted)
		}
		pct := ""
		if p, ok := r.Percent(); ok {
			pct = num(p)
		}
		if err := w.Write([]string{safeCell(r.Library), safeCell(sh.library(r.Library)), safeCell(platform), r.Month.Format("2006-01"),
			safeCell(metric), nullText(r.Vendor), nullText(r.Login), nullText(bothOnly(r)), pct, safeCell(counted)}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// bothOnly is a row's difference, there only when both figures are.
func bothOnly(r ComparisonRow) sql.NullInt64 {
	if !r.both() {
		return sql.NullInt64{}
	}
	return r.Difference
}

func nullText(v sql.NullInt64) string {
	if !v.Valid {
		return ""
	}
	return strconv.FormatInt(v.Int64, 10)
}

// nullCell is v for a spreadsheet: a number, or (nil) an empty cell.
func nullCell(v sql.NullInt64) any {
	if !v.Valid {
		return nil
	}
	return v.Int64
}

// xlsx writes the rows as a worksheet with its header frozen and filters,
// by the site's own writer (xlsx.go).
func (sh comparisonSheet) xlsx(m messages) ([]byte, error) {
	var buf bytes.Buffer
	x, err := newXLSXSheet(&buf, m.Comparison.Sheet, m.comparisonHeader(), []float64{16, 32, 28, 10, 36, 16, 16, 12, 14, 28})
	if err != nil {
		return nil, err
	}
	for _, r := range sh.rows {
		var pct any
		if p, ok := r.Percent(); ok {
			pct = p
		}
		x.Row(r.Library, safeCell(sh.library(r.Library)), safeCell(sh.platform(r.Platform)), r.Month, safeCell(m.metric(r.Metric)),
			nullCell(r.Vendor), nullCell(r.Login), nullCell(bothOnly(r)), pct, m.countedName(r.Counted))
	}
	if err := x.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeComparisonDownloads writes rows as CSV (language and machine) and
// XLSX in dir (relative to the site root) under stem, and returns their
// names relative to dir.
func (s *Site) writeComparisonDownloads(m messages, dir, stem string, rows []ComparisonRow, libs []libraryRow) ([]download, error) {
	names := map[string]string{}
	for _, l := range libs {
		names[l.ID] = l.Name
	}
	sh := comparisonSheet{rows: rows, platform: s.platform, library: func(id string) string { return names[id] }}
	files := []struct {
		suffix, label string
		write         func() ([]byte, error)
	}{
		{".csv", m.DownloadCSV, func() ([]byte, error) { return sh.csv(m, false) }},
		{"-maskin.csv", m.DownloadCSVMachine, func() ([]byte, error) { return sh.csv(m, true) }},
		{".xlsx", m.DownloadXLSX, func() ([]byte, error) { return sh.xlsx(m) }},
	}
	var out []download
	for _, f := range files {
		b, err := f.write()
		if err != nil {
			return nil, fmt.Errorf("download %s%s: %w", stem, f.suffix, err)
		}
		name := stem + f.suffix
		if err := s.writeFile(filepath.Join(s.Out, filepath.FromSlash(dir), name), b); err != nil {
			return nil, err
		}
		out = append(out, download{Name: name, Label: f.label})
	}
	return out, nil
}
