package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// ConsortiumCustomerID is the customer_id under which an admin asks
// /r51/members for every member library.
const ConsortiumCustomerID = "bibliotek24"

func (s *Server) sushiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /r51/status", s.sushiStatus)
	mux.HandleFunc("GET /r51/members", s.sushiMembers)
	mux.HandleFunc("GET /r51/reports", s.sushiReportList)
	mux.HandleFunc("GET /r51/reports/{id}", s.sushiReport)
	mux.HandleFunc("/r51/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, 3000, "no such path in COUNTER_SUSHI R5.1")
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a broken connection shows as a truncated body
}

// fail answers with a single bare exception and its HTTP status, both
// from counter's table.
func fail(w http.ResponseWriter, code int, data string) {
	writeJSON(w, counter.ExceptionInfo(code).Status, counter.NewException(code, data))
}

func (s *Server) sushiStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st := map[string]any{"Description": "BibStat COUNTER_SUSHI R5.1 service of Bibliotek24: usage harvested from vendors, per member library.",
		"Service_Active": true}
	if err := s.cfg.DB.PingContext(ctx); err != nil {
		s.log.Error("sushi status: warehouse unreachable", "error", err)
		st["Service_Active"] = false
		st["Note"] = "The warehouse is unavailable; try again later."
	}
	writeJSON(w, http.StatusOK, []any{st})
}

// authFailed is the one answer to every wrong requestor_id or api_key, so
// the answer tells no one which requestor_ids exist.
const authFailed = "requestor_id and api_key do not match an account"

// sushiAuth checks customer_id's presence, then the credentials, and
// returns the user; it has answered the request when ok is false. Failed
// keys count against the account they name (requestor_id, or the owner
// of the token's public id), else against the client address, so one ERM
// client's stale key never throttles another library's valid one.
func (s *Server) sushiAuth(w http.ResponseWriter, r *http.Request) (User, bool) {
	q := r.URL.Query()
	if q.Get("customer_id") == "" {
		fail(w, 1030, "customer_id is required")
		return User{}, false
	}
	key, rid := q.Get("api_key"), q.Get("requestor_id")
	if key == "" && rid == "" {
		fail(w, 2000, "requestor_id and api_key are required")
		return User{}, false
	}
	if key == "" {
		fail(w, 2020, "api_key is required")
		return User{}, false
	}
	ip := s.clientIP(r)
	account := "sushi-ip:" + ip
	if _, err := s.cfg.Users.Get(rid); rid != "" && err == nil {
		account = "sushi-user:" + rid
	} else if owner, ok := s.cfg.Users.tokenOwner(key); rid == "" && ok {
		account = "sushi-user:" + owner
	}
	release, ok := s.hashSlot()
	if !ok {
		s.log.Info("sushi refused: busy", "requestor_id", rid, "ip", ip)
		w.Header().Set("Retry-After", "1")
		fail(w, 1020, "too many authentications at once; retry in 1 s")
		return User{}, false
	}
	defer release()
	if wait := s.throttle.Reserve(account); wait > 0 {
		s.log.Info("sushi refused: locked", "requestor_id", rid, "ip", ip, "wait", wait.Round(time.Second).String())
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		fail(w, 1020, fmt.Sprintf("too many failed authentications; retry in %d s", int(wait.Seconds())+1))
		return User{}, false
	}
	u, err := s.cfg.Users.CheckToken(key)
	if err != nil || (rid != "" && rid != u.Name) {
		s.log.Info("sushi: authentication failed", "requestor_id", rid, "ip", ip)
		fail(w, 2000, authFailed)
		return User{}, false
	}
	s.throttle.Succeed(account)
	return u, true
}

// customer resolves customer_id (an ISIL, NO-<bibnr>) to a library the
// user may see; it has answered with 2010 when ok is false.
func (s *Server) customer(w http.ResponseWriter, r *http.Request, u User) (LibraryInfo, bool) {
	cid := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("customer_id")))
	if cid == GlobalCustomerID {
		fail(w, 2011, "BibStat serves its member libraries' usage only")
		return LibraryInfo{}, false
	}
	bibnr, _ := strings.CutPrefix(cid, "NO-")
	libs, err := s.geo.Libraries(r.Context())
	if err != nil {
		s.log.Error("sushi: read libraries", "error", err)
		fail(w, 1000, "")
		return LibraryInfo{}, false
	}
	for _, li := range libs {
		if string(li.ID) == bibnr && strings.HasPrefix(cid, "NO-") {
			if CanSeeLibrary(r.Context(), s.geo, u, li.ID) {
				return li, true
			}
			break
		}
	}
	fail(w, 2010, "customer_id is unknown or not yours; use the library's ISIL, e.g. NO-2030100")
	return LibraryInfo{}, false
}

// PlatformID is the namespace of BibStat's own identifiers in COUNTER:
// the customer_id in Institution_ID is "bibstat:NO-2030100".
const PlatformID = "bibstat"

// GlobalCustomerID asks for a report to "The World" (CoP 5.1 §11), which
// BibStat does not serve: its usage is its members'.
const GlobalCustomerID = "0000000000000000"

// institutionID is a library's Institution_ID: its ISIL, and the
// customer_id a report is asked for with as a Proprietary ID in BibStat's
// namespace, which the API requires of every R5.1 report header.
func institutionID(li LibraryInfo) map[string][]string {
	return map[string][]string{"ISIL": {li.ID.ISIL()}, "Proprietary": {PlatformID + ":" + li.ID.ISIL()}}
}

func member(li LibraryInfo) map[string]any {
	return map[string]any{"Customer_ID": li.ID.ISIL(), "Institution_Name": institutionName(li), "Institution_ID": institutionID(li)}
}

// sushiCaller is every customer endpoint's preamble: it checks the
// credentials, then resolves customer_id to a library the caller may see.
// It has answered the request when ok is false.
func (s *Server) sushiCaller(w http.ResponseWriter, r *http.Request) (li LibraryInfo, ok bool) {
	u, ok := s.sushiAuth(w, r)
	if !ok {
		return LibraryInfo{}, false
	}
	return s.customer(w, r, u)
}

func (s *Server) sushiMembers(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("customer_id") != ConsortiumCustomerID {
		if li, ok := s.sushiCaller(w, r); ok {
			writeJSON(w, http.StatusOK, []any{member(li)})
		}
		return
	}
	u, ok := s.sushiAuth(w, r)
	if !ok {
		return
	}
	if u.Role == RoleLibrary {
		fail(w, 2010, "only consortium and county accounts may list members")
		return
	}
	libs, err := s.geo.Libraries(r.Context())
	if err != nil {
		fail(w, 1000, "")
		return
	}
	out := []any{}
	for _, li := range libs {
		if CanSeeLibrary(r.Context(), s.geo, u, li.ID) {
			out = append(out, member(li))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// monthRange is what the warehouse holds for a library: the first and
// last month loaded of each master report (its own units and the
// consortium's shared ones), and the last month loaded of any.
type monthRange struct {
	families   map[string][2]bibstat.Month
	lastLoaded bibstat.Month
}

// available reads which months of which reports are loaded for the
// library. A loaded month is available whether it had usage or the
// vendor said it had none (3030): either is an answer BibStat can give.
func (s *Server) available(ctx context.Context, lib bibstat.LibraryID, platform string) (monthRange, error) {
	mr := monthRange{families: map[string][2]bibstat.Month{}}
	rows, err := s.cfg.DB.QueryContext(ctx, `
		SELECT split_part(upper(report_id), '_', 1), strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m')
		FROM loaded_units
		WHERE library_id IN (?, '') AND state IN ('ok', 'zero', 'partial') AND (? = '' OR platform = ?)
		  AND (release LIKE '5%' OR release = '') -- R4 is not served as R5.1
		  -- the access log's months only where its platform counts it, the vendor's elsewhere (marts.sql,
		  -- source_choice: a stale copy of a restated log never counts, so it has no month)
		  AND (source = 'access-log') = EXISTS (SELECT 1 FROM count_source c JOIN loaded_units l USING (platform)
		    WHERE c.platform = loaded_units.platform AND c.source = 'access-log' AND l.source = 'access-log' AND l.month = loaded_units.month
		      AND l.unit_key NOT IN (SELECT unit_key FROM stale_sources))
		GROUP BY ALL`, string(lib), platform, platform)
	if err != nil {
		return mr, fmt.Errorf("read available months: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fam, first, last string
		if err := rows.Scan(&fam, &first, &last); err != nil {
			return mr, fmt.Errorf("read available months: %w", err)
		}
		f, err1 := bibstat.ParseMonth(first)
		l, err2 := bibstat.ParseMonth(last)
		if err1 != nil || err2 != nil {
			continue
		}
		mr.families[fam] = [2]bibstat.Month{f, l}
		if mr.lastLoaded.Before(l) {
			mr.lastLoaded = l
		}
	}
	if err := rows.Err(); err != nil {
		return mr, fmt.Errorf("read available months: %w", err)
	}
	return mr, nil
}

// sushiReportList lists the reports served for the customer: every report
// and view of each master with months loaded for it, by the Report_ID its
// Report_Header carries, with its path and the months available.
func (s *Server) sushiReportList(w http.ResponseWriter, r *http.Request) {
	li, ok := s.sushiCaller(w, r)
	if !ok {
		return
	}
	mr, err := s.available(r.Context(), li.ID, r.URL.Query().Get("platform"))
	if err != nil {
		s.log.Error("sushi reports", "error", err)
		fail(w, 1000, "")
		return
	}
	out := []any{}
	for _, sp := range specs {
		months, ok := mr.families[sp.Master]
		if !ok {
			continue
		}
		out = append(out, map[string]any{"Report_Name": sp.Name, "Report_ID": sp.ID, "Release": "5.1",
			"Report_Description": sp.Desc, "Path": "/r51/reports/" + lower(sp.ID),
			"First_Month_Available": months[0].String(), "Last_Month_Available": months[1].String()})
	}
	writeJSON(w, http.StatusOK, out)
}

func lower(s string) string { return strings.ToLower(s) }

// request is a parsed report request.
type request struct {
	spec        *spec
	begin, end  bibstat.Month
	platform    string
	metrics     []string // nil: all the report allows
	dataTypes   []string
	accessMeth  []string
	accessTypes []string
	yops        [][2]int
	database    string
	itemID      string
	author      string
	show        []string // Attribute_Performance columns besides Performance
	totals      bool     // Granularity=Totals: one count per metric for the period
	parents     bool     // IR items grouped under their parents
	exceptions  []counter.Exception
}

var yopRE = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{4}))?$`)

// parseDate reads yyyy-mm or yyyy-mm-dd as its month.
func parseDate(s string) (bibstat.Month, bool) {
	if len(s) == len("2006-01-02") {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return bibstat.Month{}, false
		}
		return bibstat.MonthOf(t), true
	}
	if len(s) != len("2006-01") {
		return bibstat.Month{}, false
	}
	m, err := bibstat.ParseMonth(s)
	return m, err == nil
}

// pipeList splits a |-joined parameter value, accepting any case for the
// COUNTER names in allowed; unknown values go to bad.
func pipeList(v string, allowed []string) (good, bad []string) {
	for _, x := range strings.Split(v, "|") {
		x = strings.TrimSpace(x)
		if x == "" {
			continue
		}
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, x) })
		if i < 0 {
			bad = append(bad, x)
		} else if !slices.Contains(good, allowed[i]) {
			good = append(good, allowed[i])
		}
	}
	return good, bad
}

// parseRequest validates the query. Fatal problems (dates) come back as
// an exception code with ok false; recoverable ones are in req.exceptions.
func parseRequest(sp *spec, q url.Values, now time.Time) (req request, code int, data string) {
	req = request{spec: sp, platform: q.Get("platform")}
	if q.Get("begin_date") == "" || q.Get("end_date") == "" {
		return req, 1030, "begin_date and end_date are required"
	}
	b, ok1 := parseDate(q.Get("begin_date"))
	e, ok2 := parseDate(q.Get("end_date"))
	switch {
	case !ok1 || !ok2:
		return req, 3020, "dates must be yyyy-mm or yyyy-mm-dd"
	case e.Before(b):
		return req, 3020, "end_date is before begin_date"
	case bibstat.MonthOf(now).Before(b):
		return req, 3020, "begin_date is in the future"
	}
	req.begin, req.end = b, e

	known := append(slices.Clone(commonParams), masterParams[sp.Master]...)
	if sp.view() {
		known = commonParams
	}
	var unknown []string
	for k := range q {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		req.exceptions = append(req.exceptions, counter.NewException(3050, strings.Join(unknown, ", ")))
	}
	if sp.view() {
		req.metrics, req.dataTypes, req.accessTypes, req.accessMeth = sp.Metrics, sp.DataTypes, sp.AccessTypes, []string{"Regular"}
		req.show = sp.Attrs
		req.parents = sp.ID == "IR_A1" // the view shows each article's journal
		return req, 0, ""
	}
	req.masterFilters(q)
	return req, 0, ""
}

// masterFilters reads a master report's filters and attributes. Values it
// cannot apply are ignored and named in 3060, 3062 or 3063 exceptions, as
// the CoP asks of a recoverable request.
func (req *request) masterFilters(q url.Values) {
	sp := req.spec
	var badFilters, badAttrs []string
	filter := func(name string, allowed []string) []string {
		if !q.Has(name) {
			return nil
		}
		good, bad := pipeList(q.Get(name), allowed)
		for _, x := range bad {
			badFilters = append(badFilters, name+"="+x)
		}
		return good
	}
	req.metrics = filter("metric_type", sp.Metrics)
	req.dataTypes = filter("data_type", sp.DataTypes)
	req.accessMeth = filter("access_method", counter.AccessMethods)
	if sp.Master == "TR" || sp.Master == "IR" {
		req.accessTypes = filter("access_type", counter.AccessTypes)
		if q.Has("yop") {
			for _, y := range strings.Split(q.Get("yop"), "|") {
				m := yopRE.FindStringSubmatch(strings.TrimSpace(y))
				if m == nil {
					badFilters = append(badFilters, "yop="+y)
					continue
				}
				lo, _ := strconv.Atoi(m[1])
				hi := lo
				if m[2] != "" {
					hi, _ = strconv.Atoi(m[2])
				}
				req.yops = append(req.yops, [2]int{lo, hi})
			}
		}
		req.itemID = q.Get("item_id")
	}
	req.database, req.author = q.Get("database"), q.Get("author")
	for _, ext := range []string{"attributed", "country_code", "subdivision_code"} {
		if q.Has(ext) {
			badFilters = append(badFilters, ext+" (not supported)")
		}
	}
	req.show = []string{"Data_Type"}
	if q.Has("attributes_to_show") {
		good, bad := pipeList(q.Get("attributes_to_show"), sp.Attrs)
		req.show = append(req.show, good...)
		badAttrs = append(badAttrs, bad...)
	}
	// Keep the schema's column order whatever the request's order was.
	slices.SortFunc(req.show, func(a, b string) int { return attrRank(a) - attrRank(b) })
	// Granularity: the CoP's text says Totals, API 5.1's enum Total.
	switch g := q.Get("granularity"); {
	case strings.EqualFold(g, "totals") || strings.EqualFold(g, "total"):
		req.totals = true
	case g != "" && !strings.EqualFold(g, "month"):
		badAttrs = append(badAttrs, "granularity="+g+" (monthly counts returned)")
	}
	switch v := q.Get("include_parent_details"); {
	case strings.EqualFold(v, "true"):
		req.parents = sp.Master == "IR"
	case v != "" && !strings.EqualFold(v, "false"):
		badAttrs = append(badAttrs, "include_parent_details="+v)
	}
	if strings.EqualFold(q.Get("include_component_details"), "true") {
		req.exceptions = append(req.exceptions, counter.NewException(3063, "include_component_details ignored"))
	}
	if len(badFilters) > 0 {
		req.exceptions = append(req.exceptions, counter.NewException(3060, strings.Join(badFilters, "; ")))
	}
	if len(badAttrs) > 0 {
		req.exceptions = append(req.exceptions, counter.NewException(3062, strings.Join(badAttrs, "; ")))
	}
}

func attrRank(a string) int {
	return slices.Index([]string{"Data_Type", "YOP", "Access_Type", "Access_Method"}, a)
}

func (s *Server) sushiReport(w http.ResponseWriter, r *http.Request) {
	sp := specByPath(r.PathValue("id"))
	if sp == nil {
		fail(w, 3000, "reports: "+lower(strings.Join(counter.Reports, ", ")))
		return
	}
	li, ok := s.sushiCaller(w, r)
	if !ok {
		return
	}
	req, code, data := parseRequest(sp, r.URL.Query(), s.cfg.Now())
	if code != 0 {
		fail(w, code, data)
		return
	}
	rep, err := s.buildReport(r.Context(), li, req)
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("sushi report", "report", sp.ID, "library", string(li.ID), "error", err)
		}
		fail(w, 1000, "")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
