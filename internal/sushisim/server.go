package sushisim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Handler serves one platform's COUNTER_SUSHI API, R5.1 under /r51
// (status, reports, members, reports/pr) and R5 at the root (the same
// paths), applying c.Faults to report requests.
func (c *Config) Handler(platformID string) http.Handler {
	c.buildIndex()
	mux := http.NewServeMux()
	fc := &faultCounter{n: map[string]int{}}
	for _, rel := range []string{"5.1", "5"} {
		prefix := ""
		if rel == "5.1" {
			prefix = "/r51"
		}
		mux.HandleFunc("GET "+prefix+"/status", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, []map[string]any{{
				"Description": "BibStat simulator for " + platformID, "Service_Active": true,
			}})
		})
		mux.HandleFunc("GET "+prefix+"/reports", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := c.authorize(w, r, platformID, true); !ok {
				return
			}
			writeJSON(w, http.StatusOK, []map[string]any{{
				"Report_Name": "Platform Report", "Report_ID": "pr", "Release": rel,
				"Report_Description": "Platform-level usage", "Path": prefix + "/reports/pr",
				"First_Month_Available": c.First.String(), "Last_Month_Available": c.Last.String(),
			}})
		})
		mux.HandleFunc("GET "+prefix+"/members", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := c.authorize(w, r, platformID, true); !ok {
				return
			}
			writeJSON(w, http.StatusOK, c.members(platformID, r.URL.Query().Get("customer_id"), rel))
		})
		mux.HandleFunc("GET "+prefix+"/reports/{id}", func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") != "pr" {
				writeException(w, 3000, "")
				return
			}
			lib, ok := c.authorize(w, r, platformID, false)
			if !ok {
				return
			}
			begin, err1 := parseDate(r.URL.Query().Get("begin_date"))
			end, err2 := parseDate(r.URL.Query().Get("end_date"))
			if err1 != nil || err2 != nil || end.Before(begin) {
				writeException(w, 3020, "")
				return
			}
			c.serveReport(w, r, fc, platformID, lib, begin, end, rel)
		})
	}
	return mux
}

// serveReport answers a PR request, through the matching fault if any.
func (c *Config) serveReport(w http.ResponseWriter, r *http.Request, fc *faultCounter, platformID string, lib *Library, begin, end bibstat.Month, rel string) {
	f := c.pick(fc, platformID, lib.ID, begin)
	if f != nil && serveFault(w, r, f) {
		return
	}
	subject, b, e := lib, begin, end
	var exc []counter.Exception
	noItems := false
	kind := FaultKind("")
	if f != nil {
		kind = f.Kind
	}
	switch kind {
	case FaultWrongMonths:
		b, e = begin.Add(-1), end.Add(-1)
	case FaultWrongCustomer:
		subject = c.otherLibrary(lib)
	case FaultNotReady:
		exc, noItems = []counter.Exception{counter.NewException(3031, "Usage not ready for "+begin.String())}, true
	case FaultNoUsage:
		exc, noItems = []counter.Exception{counter.NewException(3030, "")}, true
	case FaultPartial:
		exc = []counter.Exception{counter.NewException(3040, "logging failure on one day")}
	}
	show, bad := attributesToShow(rel, r.URL.Query().Get("attributes_to_show"))
	if bad != "" {
		exc = append(exc, counter.NewException(3062, bad))
	}
	var v any
	if rel == "5" {
		v = c.platformReportR5(platformID, subject, b, e, show, exc, noItems)
	} else {
		rep := c.platformReport(platformID, subject, b, e, show)
		if exc != nil {
			rep.Header.Exceptions = append(exc, rep.Header.Exceptions...)
		}
		if noItems {
			rep.Items = []item{}
		}
		v = rep
	}
	if kind != FaultTruncated && kind != FaultSlowBody {
		writeJSON(w, http.StatusOK, v)
		return
	}
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body[:len(body)/2])
	if kind == FaultTruncated {
		return
	}
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	select {
	case <-time.After(f.Delay):
	case <-r.Context().Done():
		return
	}
	w.Write(body[len(body)/2:])
}

// otherLibrary is a library other than lib, for the wrong-customer fault.
func (c *Config) otherLibrary(lib *Library) *Library {
	for i := range c.Libraries {
		if c.Libraries[i].ID != lib.ID {
			return &c.Libraries[i]
		}
	}
	return &Library{ID: "2999999", Name: "Annet bibliotek"}
}

// ConsortiumCustomerID is the consortium's own customer id on every platform.
const ConsortiumCustomerID = "konsortium-b24"

// ConsortiumKey is the consortium's api_key on a platform.
func (c *Config) ConsortiumKey(platform string) string {
	return fmt.Sprintf("ck-%016x", c.hash("consortium", platform))
}

// members lists every library for the consortium, or just the caller.
func (c *Config) members(platformID, customerID, rel string) []map[string]any {
	var out []map[string]any
	for _, l := range c.Libraries {
		if customerID != ConsortiumCustomerID && c.CustomerID(l.ID) != customerID {
			continue
		}
		m := map[string]any{"Customer_ID": c.CustomerID(l.ID)}
		if rel == "5" {
			m["Name"] = l.Name
			m["Institution_ID"] = []map[string]string{{"Type": "ISIL", "Value": l.ID.ISIL()}}
		} else {
			m["Institution_Name"] = l.Name
			m["Institution_ID"] = map[string][]string{"ISIL": {l.ID.ISIL()}}
		}
		out = append(out, m)
	}
	return out
}

// authorize finds the library behind customer_id and checks its api_key,
// answering with the COUNTER exception when it does not match. With
// consortium, the consortium's own credential is accepted too (nil library).
func (c *Config) authorize(w http.ResponseWriter, r *http.Request, platformID string, consortium bool) (*Library, bool) {
	q := r.URL.Query()
	if q.Get("customer_id") == "" {
		writeException(w, 1030, "")
		return nil, false
	}
	if consortium && q.Get("customer_id") == ConsortiumCustomerID {
		if q.Get("api_key") != c.ConsortiumKey(platformID) {
			writeException(w, 2020, "")
			return nil, false
		}
		return nil, true
	}
	if l, ok := c.idx.byCustomer[q.Get("customer_id")]; ok {
		if q.Get("api_key") != c.APIKey(platformID, l.ID) {
			writeException(w, 2020, "")
			return nil, false
		}
		return l, true
	}
	writeException(w, 2010, "")
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
	Attributes      map[string]any      `json:"Report_Attributes,omitempty"`
	Created         string              `json:"Created"`
	CreatedBy       string              `json:"Created_By"`
	Exceptions      []counter.Exception `json:"Exceptions,omitempty"`
}

type item struct {
	Platform    string          `json:"Platform"`
	Performance []attributePerf `json:"Attribute_Performance"`
}

type attributePerf struct {
	DataType     string                      `json:"Data_Type"`
	AccessMethod string                      `json:"Access_Method,omitempty"`
	Performance  map[string]map[string]int64 `json:"Performance"`
}

func (c *Config) platformReport(platformID string, lib *Library, begin, end bibstat.Month, show attrs) report {
	dataType := c.dataType(platformID)
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
	if show.accessMethod {
		rep.Header.Attributes = map[string]any{"Attributes_To_Show": []string{"Access_Method"}}
	}
	if len(perf) == 0 {
		rep.Header.Exceptions = []counter.Exception{counter.NewException(3030, "")}
		return rep
	}
	// Searches_Platform is the platform's, never its content's: its own
	// Attribute_Performance with Data_Type Platform.
	it := item{Platform: platformID}
	if searches, ok := perf[counter.SearchesPlatform]; ok {
		delete(perf, counter.SearchesPlatform)
		it.Performance = append(it.Performance, attributePerf{DataType: "Platform", AccessMethod: ifShown(show.accessMethod, "Regular"),
			Performance: map[string]map[string]int64{counter.SearchesPlatform: searches}})
	}
	if len(perf) > 0 {
		it.Performance = append(it.Performance, attributePerf{DataType: dataType, AccessMethod: ifShown(show.accessMethod, "Regular"), Performance: perf})
	}
	rep.Items = append(rep.Items, it)
	return rep
}

// writeException answers with a bare exception and its HTTP status, both
// from counter's table.
func writeException(w http.ResponseWriter, code int, data string) {
	writeJSON(w, counter.ExceptionInfo(code).Status, counter.NewException(code, data))
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

// R5 report shapes: Report_Filters and Institution_ID are name/value lists,
// Performance a list of periods with metric instances.
type reportR5 struct {
	Header headerR5 `json:"Report_Header"`
	Items  []itemR5 `json:"Report_Items"`
}

type headerR5 struct {
	Created          string              `json:"Created"`
	CreatedBy        string              `json:"Created_By"`
	CustomerID       string              `json:"Customer_ID"`
	ReportID         string              `json:"Report_ID"`
	Release          string              `json:"Release"`
	ReportName       string              `json:"Report_Name"`
	InstitutionName  string              `json:"Institution_Name"`
	InstitutionID    []typeValue         `json:"Institution_ID"`
	ReportFilters    []nameValue         `json:"Report_Filters"`
	ReportAttributes []nameValue         `json:"Report_Attributes,omitempty"`
	Exceptions       []counter.Exception `json:"Exceptions,omitempty"`
}

type typeValue struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

type nameValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type itemR5 struct {
	Platform     string     `json:"Platform"`
	DataType     string     `json:"Data_Type,omitempty"`
	AccessMethod string     `json:"Access_Method,omitempty"`
	Performance  []periodR5 `json:"Performance"`
}

type periodR5 struct {
	Period struct {
		Begin string `json:"Begin_Date"`
		End   string `json:"End_Date"`
	} `json:"Period"`
	Instance []instanceR5 `json:"Instance"`
}

type instanceR5 struct {
	MetricType string `json:"Metric_Type"`
	Count      int64  `json:"Count"`
}

func (c *Config) platformReportR5(platformID string, lib *Library, begin, end bibstat.Month, show attrs, exc []counter.Exception, noItems bool) reportR5 {
	rep := reportR5{Header: headerR5{
		Created: end.Last().AddDate(0, 0, 3).Format(time.RFC3339), CreatedBy: "BibStat SUSHI simulator",
		CustomerID: c.CustomerID(lib.ID), ReportID: "PR", Release: "5", ReportName: "Platform Master Report",
		InstitutionName: lib.Name, InstitutionID: []typeValue{{"ISIL", lib.ID.ISIL()}},
		ReportFilters: []nameValue{{"Begin_Date", begin.First().Format(time.DateOnly)}, {"End_Date", end.Last().Format(time.DateOnly)}},
		Exceptions:    exc,
	}, Items: []itemR5{}}
	if shown := show.list(); shown != "" {
		rep.Header.ReportAttributes = []nameValue{{"Attributes_To_Show", shown}}
	}
	if noItems {
		return rep
	}
	// Shown by Data_Type, Searches_Platform is an item of Data_Type
	// Platform; without it, one item sums everything.
	content := itemR5{Platform: platformID, DataType: ifShown(show.dataType, c.dataType(platformID)), AccessMethod: ifShown(show.accessMethod, "Regular")}
	search := content
	search.DataType = ifShown(show.dataType, "Platform")
	for _, m := range bibstat.MonthsBetween(begin, end) {
		usage := c.Usage(platformID, lib.ID, m)
		var pc, ps periodR5
		pc.Period.Begin, pc.Period.End = m.First().Format(time.DateOnly), m.Last().Format(time.DateOnly)
		ps.Period = pc.Period
		for _, metric := range PRMetrics {
			n := usage[metric]
			switch {
			case n == 0:
			case metric == counter.SearchesPlatform && show.dataType:
				ps.Instance = append(ps.Instance, instanceR5{metric, n})
			default:
				pc.Instance = append(pc.Instance, instanceR5{metric, n})
			}
		}
		if len(ps.Instance) > 0 {
			search.Performance = append(search.Performance, ps)
		}
		if len(pc.Instance) > 0 {
			content.Performance = append(content.Performance, pc)
		}
	}
	for _, it := range []itemR5{search, content} {
		if len(it.Performance) > 0 {
			rep.Items = append(rep.Items, it)
		}
	}
	if len(rep.Items) == 0 && rep.Header.Exceptions == nil {
		rep.Header.Exceptions = []counter.Exception{counter.NewException(3030, "")}
	}
	return rep
}

func (c *Config) dataType(platformID string) string {
	if c.idx != nil {
		if p := c.idx.platforms[platformID]; p != nil {
			return p.DataType
		}
	}
	for _, p := range c.Platforms {
		if p.ID == platformID {
			return p.DataType
		}
	}
	return "Platform"
}

// attrs are the PR attributes a request asked to see. A vendor shows a
// column only when asked (R5.1's Data_Type is always shown) and sums the
// usage over an attribute not shown.
type attrs struct{ dataType, accessMethod bool }

// attributesToShow reads attributes_to_show for PR of release rel; bad
// lists the names that release does not offer (exception 3062), which are
// ignored: R5.1 shows Data_Type always and does not take it as an attribute.
func attributesToShow(rel, q string) (show attrs, bad string) {
	var unknown []string
	for _, a := range strings.Split(q, "|") {
		switch {
		case a == "":
		case a == "Access_Method":
			show.accessMethod = true
		case a == "Data_Type" && rel == "5":
			show.dataType = true
		default:
			unknown = append(unknown, a)
		}
	}
	if rel != "5" {
		show.dataType = true
	}
	if len(unknown) > 0 {
		bad = "attributes_to_show: " + strings.Join(unknown, "|")
	}
	return show, bad
}

// list is the R5 Report_Attributes value of what is shown.
func (a attrs) list() string {
	var out []string
	if a.dataType {
		out = append(out, "Data_Type")
	}
	if a.accessMethod {
		out = append(out, "Access_Method")
	}
	return strings.Join(out, "|")
}

// ifShown is v when its attribute is shown, else "" (the column is left out).
func ifShown(shown bool, v string) string {
	if shown {
		return v
	}
	return ""
}
