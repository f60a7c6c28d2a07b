package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// writeDownloads writes the scope's usage as CSV for spreadsheets (in the
// page's language), CSV for machines, XLSX, COUNTER R5.1 TSV and Parquet,
// and returns the file names relative to the scope's directory. Every
// spreadsheet download has a row per library, with its number and name.
func (s *Site) writeDownloads(ctx context.Context, m messages, sc Scope, rows []usageRow, libs []libraryRow) ([]download, error) {
	dir := filepath.Join(s.Out, sc.Directory)
	lrows, err := s.libraryRows(ctx, m, sc, libs)
	if err != nil {
		return nil, err
	}
	sheet := s.usageSheet(lrows)
	files := []struct {
		suffix, label string
		write         func() ([]byte, error)
	}{
		{".csv", m.DownloadCSV, func() ([]byte, error) { return sheet.csv(m, false) }},
		{"-maskin.csv", m.DownloadCSVMachine, func() ([]byte, error) { return sheet.csv(m, true) }},
		{".xlsx", m.DownloadXLSX, func() ([]byte, error) { return sheet.xlsx(m) }},
		{".tsv", m.DownloadTSV, func() ([]byte, error) { return s.counterDownload(ctx, sc, rows) }},
		{".parquet", m.DownloadParquet, sheet.parquet},
	}
	var out []download
	for _, f := range files {
		b, err := f.write()
		if err != nil {
			return nil, fmt.Errorf("download %s%s: %w", sc.FileStem, f.suffix, err)
		}
		if b == nil {
			continue // no COUNTER file for a scope without usage (counterDownload)
		}
		name := sc.FileStem + f.suffix
		if err := s.writeFile(filepath.Join(dir, name), b); err != nil {
			return nil, err
		}
		out = append(out, download{Name: name, Label: f.label})
	}
	return out, nil
}

type download struct{ Name, Label string }

// libraryUsage is a usage row with the library it belongs to.
type libraryUsage struct {
	ID, Name string
	usageRow
}

// libraryRows are the scope's usage per library; the nation's adds the
// usage no library could be attributed, under no number, so that the
// download sums to the page.
func (s *Site) libraryRows(ctx context.Context, m messages, sc Scope, libs []libraryRow) ([]libraryUsage, error) {
	var out []libraryUsage
	for _, l := range libs {
		for _, r := range s.libUsage[l.ID] {
			out = append(out, libraryUsage{l.ID, l.Name, r})
		}
	}
	if sc.Kind != "nation" {
		return out, nil
	}
	q, err := s.DB.QueryContext(ctx, `SELECT platform, metric_type, month, sum(unattributed)::BIGINT FROM mart_national_month
		GROUP BY ALL HAVING sum(unattributed) <> 0 ORDER BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("report unattributed usage: %w", err)
	}
	defer q.Close()
	for q.Next() {
		r := libraryUsage{Name: m.Unattributed}
		if err := q.Scan(&r.Platform, &r.Metric, &r.Month, &r.Count); err != nil {
			return nil, fmt.Errorf("report unattributed usage: %w", err)
		}
		r.Total = float64(r.Count)
		out = append(out, r)
	}
	return out, q.Err()
}

// sheet is a usage download's rows, and how it names platforms.
type sheet struct {
	rows     []libraryUsage
	platform func(id string) string
}

func (s *Site) usageSheet(rows []libraryUsage) sheet { return sheet{rows: rows, platform: s.platform} }

// machineHeader is the machine CSV's header: English, COUNTER's names.
var machineHeader = []string{"Library_ID", "Library_Name", "Month", "Platform", "Release", "Metric_Type", "Count", "Pooled", "Total"}

func (m messages) sheetHeader() []string {
	return []string{m.ColLibraryNumber, m.ColLibrary, m.Month, m.Platform, m.ColRelease, m.ColMetric, m.ColCount, m.ColPooled, m.ColTotal}
}

// csv writes the rows for a spreadsheet in the page's language (nb, nn:
// ";" between cells and a decimal comma, as Norwegian Excel expects), or
// for machines (",", ".", COUNTER names, ids).
func (sh sheet) csv(m messages, machine bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads UTF-8 only with a BOM
	w := csv.NewWriter(&buf)
	header, num := m.sheetHeader(), func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", m.Decimal, 1) }
	if m.Decimal == "," {
		w.Comma = ';'
	}
	if machine {
		w.Comma, header, num = ',', machineHeader, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range sh.rows {
		platform, metric := r.Platform, r.Metric
		if !machine {
			platform, metric = sh.platform(r.Platform), m.metric(r.Metric)
		}
		if err := w.Write([]string{r.ID, safeCell(r.Name), r.Month.Format("2006-01"), safeCell(platform), safeCell(r.Release),
			safeCell(metric), strconv.FormatInt(r.Count, 10), num(r.Pooled), num(r.Total)}); err != nil {
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

// xlsx writes the rows as a worksheet a librarian can filter at once: the
// header frozen, an autofilter, columns wide enough, months as dates.
func (sh sheet) xlsx(m messages) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	name := m.Uses
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	monthStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: strPtr("yyyy-mm")})
	if err != nil {
		return nil, err
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, w := range []float64{16, 32, 10, 28, 10, 36, 12, 14, 12} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	var head []any
	for _, h := range m.sheetHeader() {
		head = append(head, excelize.Cell{StyleID: headStyle, Value: h})
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	for i, r := range sh.rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		// Text cells are written as strings (never formulas); the month as a date, counts as numbers.
		if err := sw.SetRow(cell, []any{r.ID, safeCell(r.Name), excelize.Cell{StyleID: monthStyle, Value: r.Month.UTC()},
			safeCell(sh.platform(r.Platform)), safeCell(r.Release), safeCell(m.metric(r.Metric)), r.Count, r.Pooled, r.Total}); err != nil {
			return nil, err
		}
	}
	// A table gives the header row its filter buttons; the stream writer
	// has no plain autofilter.
	last, _ := excelize.CoordinatesToCellName(len(machineHeader), max(len(sh.rows)+1, 2))
	if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "BibStat", StyleName: "TableStyleLight1"}); err != nil {
		return nil, err
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

func strPtr(s string) *string { return &s }
