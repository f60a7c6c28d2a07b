package sushisim

import (
	"encoding/json"
	"net/http"
	"sort"

	"time"

	"github.com/bibliotek24/bibstat"
)

// Handler serves one platform's COUNTER_SUSHI R5.1 API: /r51/status,
// /r51/reports and /r51/reports/pr.
func (c *Config) Handler(platformID string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /r51/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []map[string]any{{
			"Description": "BibStat simulator for " + platformID, "Service_Active": true,
		}})
	})
	mux.HandleFunc("GET /r51/reports", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.authorize(w, r, platformID); !ok {
			return
		}
		writeJSON(w, http.StatusOK, []map[string]any{{
			"Report_Name": "Platform Report", "Report_ID": "pr", "Release": "5.1",
			"Report_Description": "Platform-level usage", "Path": "/r51/reports/pr",
			"First_Month_Available": c.First.String(), "Last_Month_Available": c.Last.String(),
		}})
	})
	mux.HandleFunc("GET /r51/reports/pr", func(w http.ResponseWriter, r *http.Request) {
		lib, ok := c.authorize(w, r, platformID)
		if !ok {
			return
		}
		begin, err1 := parseDate(r.URL.Query().Get("begin_date"))
		end, err2 := parseDate(r.URL.Query().Get("end_date"))
		if err1 != nil || err2 != nil || end.Before(begin) {
			writeException(w, http.StatusBadRequest, 3020, "Invalid Date Arguments")
			return
		}
		writeJSON(w, http.StatusOK, c.platformReport(platformID, lib, begin, end))
	})
	return mux
}

// authorize finds the library behind customer_id and checks its api_key,
// answering with the COUNTER exception when it does not match.
func (c *Config) authorize(w http.ResponseWriter, r *http.Request, platformID string) (*Library, bool) {
	q := r.URL.Query()
	if q.Get("customer_id") == "" {
		writeException(w, http.StatusBadRequest, 1030, "Insufficient Information to Process Request")
		return nil, false
	}
	for i := range c.Libraries {
		l := &c.Libraries[i]
		if c.CustomerID(l.ID) != q.Get("customer_id") {
			continue
		}
		if q.Get("api_key") != c.APIKey(platformID, l.ID) {
			writeException(w, http.StatusUnauthorized, 2020, "APIKey Invalid")
			return nil, false
		}
		return l, true
	}
	writeException(w, http.StatusForbidden, 2010, "Requestor is Not Authorized to Access Usage for Institution")
	return nil, false
}

func parseDate(s string) (bibstat.Month, error) {
	if len(s) > 7 {
		s = s[:7]
	}
	return bibstat.ParseMonth(s)
}

// report is an R5.1 report; structs keep the header's field order stable.
type report struct {
	Header header `json:"Report_Header"`
	Items  []item `json:"Report_Items"`
}

type header struct {
	ReportName      string              `json:"Report_Name"`
	ReportID        string              `json:"Report_ID"`
	Release         string              `json:"Release"`
	InstitutionName string              `json:"Institution_Name"`
	InstitutionID   map[string][]string `json:"Institution_ID"`
	Filters         map[string]any      `json:"Report_Filters"`
	Created         string              `json:"Created"`
	CreatedBy       string              `json:"Created_By"`
	Exceptions      []exception         `json:"Exceptions,omitempty"`
}

type item struct {
	Platform    string          `json:"Platform"`
	Performance []attributePerf `json:"Attribute_Performance"`
}

type attributePerf struct {
	DataType     string                      `json:"Data_Type"`
	AccessMethod string                      `json:"Access_Method"`
	Performance  map[string]map[string]int64 `json:"Performance"`
}

type exception struct {
	Code    int    `json:"Code"`
	Message string `json:"Message"`
	Data    string `json:"Data,omitempty"`
}

func (c *Config) platformReport(platformID string, lib *Library, begin, end bibstat.Month) report {
	dataType := "Platform"
	for _, p := range c.Platforms {
		if p.ID == platformID {
			dataType = p.DataType
		}
	}
	perf := map[string]map[string]int64{}
	for _, m := range bibstat.MonthsBetween(begin, end) {
		for metric, n := range c.Usage(platformID, lib.ID, m) {
			if n == 0 {
				continue
			}
			if perf[metric] == nil {
				perf[metric] = map[string]int64{}
			}
			perf[metric][m.String()] = n
		}
	}
	rep := report{Header: header{
		ReportName: "Platform Report", ReportID: "PR", Release: "5.1",
		InstitutionName: lib.Name,
		InstitutionID:   map[string][]string{"ISIL": {lib.ID.ISIL()}, "Proprietary": {platformID + ":" + c.CustomerID(lib.ID)}},
		Filters:         map[string]any{"Begin_Date": begin.First().Format(time.DateOnly), "End_Date": end.Last().Format(time.DateOnly)},
		Created:         end.Last().AddDate(0, 0, 3).Format(time.RFC3339), // deterministic: bytes differ only when usage does
		CreatedBy:       "BibStat SUSHI simulator",
	}, Items: []item{}}
	if len(perf) == 0 {
		rep.Header.Exceptions = []exception{{Code: 3030, Message: "No Usage Available for Requested Dates"}}
		return rep
	}
	rep.Items = append(rep.Items, item{Platform: platformID, Performance: []attributePerf{{
		DataType: dataType, AccessMethod: "Regular", Performance: perf,
	}}})
	return rep
}

func writeException(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, exception{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client sees a truncated body if the connection broke
}

// PlatformIDs lists the configured platforms, sorted.
func (c *Config) PlatformIDs() []string {
	ids := make([]string, 0, len(c.Platforms))
	for _, p := range c.Platforms {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}
