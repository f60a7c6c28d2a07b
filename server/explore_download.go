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
	s.sendDownload(w, c, "bibstat-",
		func(machine bool) ([]byte, error) { return report.UsageCSV(m, s.platformName, rows, machine) },
		func() ([]byte, error) { return report.UsageXLSX(m, s.platformName, rows) })
}

// sendDownload answers with the choice's download in its format, made by
// csv or xlsx, named by prefix, the metric and the months.
func (s *Server) sendDownload(w http.ResponseWriter, c exploreChoice, prefix string, csv func(machine bool) ([]byte, error), xlsx func() ([]byte, error)) {
	var b []byte
	var err error
	ext, ctype := "csv", "text/csv; charset=utf-8"
	switch c.Format {
	case "csv", "csv-machine":
		b, err = csv(c.Format == "csv-machine")
	case "xlsx":
		ext, ctype = "xlsx", contentTypes[".xlsx"]
		b, err = xlsx()
	}
	// The name holds only the month range and the metric, which are checked: no header injection.
	name := prefix + strings.ToLower(c.Metric) + "-" + c.From.String() + "-" + c.To.String()
	if c.Format == "csv-machine" {
		name += "-machine"
	}
	if err != nil {
		// The file's name tells the explorer's download from the comparison's.
		s.log.Error("explore: download", "file", name+"."+ext, "error", err)
		http.Error(w, "download failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+ext+`"`)
	_, _ = w.Write(b)
}
