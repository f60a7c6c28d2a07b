package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// agreementDownloads are the names of an agreement's figure downloads.
func agreementDownloads(m messages, id string) []download {
	return []download{{id + "-tall.csv", m.DownloadCSV}, {id + "-tall-maskin.csv", m.DownloadCSVMachine}, {id + "-tall.xlsx", m.DownloadXLSX}}
}

// writeAgreementDownloads writes an agreement's cost, use and cost per use
// by month and by year as CSV (language and machine) and XLSX. A figure
// that is not there (no usage harvested) is an empty cell, never 0.
func (s *Site) writeAgreementDownloads(m messages, a agreementRow) error {
	header := []string{m.Period, m.Cost, m.Uses, m.CostPerUse, m.Libraries}
	machine := []string{"Period", "Cost_NOK", "Uses", "Cost_Per_Use_NOK", "Libraries"}
	cells := func(f figureRow, num func(float64) string) []string {
		uses, cpu := "", ""
		if f.HasData {
			uses = strconv.FormatInt(f.Uses, 10)
		}
		if v, ok := quotientValue(f.CostPerUse); ok {
			cpu = num(v)
		}
		return []string{f.Period, num(float64(f.Cost) / 100), uses, cpu, strconv.Itoa(f.Lib)}
	}
	local := func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", m.Decimal, 1) }
	plain := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	dir := filepath.Join(s.Out, "avtale")
	names := agreementDownloads(m, a.ID)
	for i, machineCSV := range []bool{false, true} {
		var buf bytes.Buffer
		buf.WriteString("\ufeff")
		w := csv.NewWriter(&buf)
		h, num := header, local
		if m.Decimal == "," {
			w.Comma = ';'
		}
		if machineCSV {
			w.Comma, h, num = ',', machine, plain
		}
		if err := w.Write(h); err != nil {
			return err
		}
		for _, f := range a.view.figures {
			if err := w.Write(cells(f, num)); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		if err := s.writeFile(filepath.Join(dir, names[i].Name), buf.Bytes()); err != nil {
			return err
		}
	}
	b, err := agreementXLSX(m, header, a.view.figures)
	if err != nil {
		return fmt.Errorf("download %s: %w", names[2].Name, err)
	}
	return s.writeFile(filepath.Join(dir, names[2].Name), b)
}

func agreementXLSX(m messages, header []string, figures []figureRow) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	name := m.Agreement
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return nil, err
	}
	var rows [][]any
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	rows = append(rows, head)
	for _, fr := range figures {
		row := []any{fr.Period, float64(fr.Cost) / 100, nil, nil, fr.Lib}
		if fr.HasData {
			row[2] = fr.Uses
		}
		if v, ok := quotientValue(fr.CostPerUse); ok {
			row[3] = v
		}
		rows = append(rows, row)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(name, cell, &r); err != nil {
			return nil, err
		}
	}
	for i, w := range []float64{14, 16, 12, 16, 12} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, col, col, w); err != nil {
			return nil, err
		}
	}
	last := max(len(rows), 2)
	if err := f.SetCellStyle(name, "B2", fmt.Sprintf("B%d", last), money); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(name, "D2", fmt.Sprintf("D%d", last), money); err != nil {
		return nil, err
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := f.AutoFilter(name, fmt.Sprintf("A1:E%d", last), nil); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
