package server

import (
	"net/http"
	"strings"

	"github.com/bibliotek24/bibstat/report"
)

// exploreDownload answers a choice with format set: its usage per library
// as the site's downloads are written (report.UsageCSV, report.UsageXLSX).
func (s *Server) exploreDownload(w http.ResponseWriter, r *http.Request, c exploreChoice, o exploreOptions, m report.Messages) {
	rows, err := s.downloadRows(r.Context(), c, o, m)
	if err != nil {
		s.log.Error("explore: download", "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	var b []byte
	ext, ctype := "csv", "text/csv; charset=utf-8"
	switch c.Format {
	case "csv", "csv-machine":
		b, err = report.UsageCSV(m, s.platformName, rows, c.Format == "csv-machine")
	case "xlsx":
		ext, ctype = "xlsx", contentTypes[".xlsx"]
		b, err = report.UsageXLSX(m, s.platformName, rows)
	}
	if err != nil {
		s.log.Error("explore: download", "format", c.Format, "error", err)
		http.Error(w, "download failed", http.StatusInternalServerError)
		return
	}
	// The name holds only the month range and the metric, which are checked: no header injection.
	name := "bibstat-" + strings.ToLower(c.Metric) + "-" + c.From.String() + "-" + c.To.String()
	if c.Format == "csv-machine" {
		name += "-machine"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+ext+`"`)
	_, _ = w.Write(b)
}
