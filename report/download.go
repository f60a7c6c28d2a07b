package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
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
		{"tsv", "COUNTER R5.1 (TSV)", func() ([]byte, error) { return s.counterDownload(ctx, sc, rows) }},
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
