package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

// The mixed world: vendors of both releases, every master report, for two
// libraries. "nyheter" switched from R5 to R5.1 in January 2025 (both
// releases harvested for that month: the R5.1 one counts), "medier" is
// R5.1 only, "arkiv" R5 only. The R5 DR of November 2024 was harvested
// with attributes_to_show=Access_Method only, so it has no Data_Type.
var (
	worldLibs = []transform.Library{
		{ID: "2030100", Name: "Oslo verdensbibliotek", Municipality: "0301", Population: 700000},
		{ID: "2120100", Name: "Bergen verdensbibliotek", Municipality: "4601", Population: 290000},
	}
	worldFirst = bibstat.Month{Year: 2024, Mon: 11}
	worldLast  = bibstat.Month{Year: 2025, Mon: 3}
)

// worldDoc is one harvested unit: a report of one platform, library and month.
type worldDoc struct {
	platform, report, release string
	lib                       bibstat.LibraryID
	month                     bibstat.Month
	body                      map[string]any
}

// worldWarehouse loads the mixed world into a warehouse, once per test binary.
var worldWarehouse = sync.OnceValues(func() (*transform.Warehouse, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bibstat-sushi-world-")
	if err != nil {
		return nil, err
	}
	st := store.NewMemory()
	at := time.Date(2025, 4, 5, 1, 0, 0, 0, time.UTC)
	for i, d := range worldDocs() {
		u := bibstat.Unit{Platform: d.platform, Credential: string(d.lib) + "-" + d.platform, Report: bibstat.ReportID(d.report), Month: d.month}
		key := u.RawKey(at.Add(time.Duration(i)*time.Second), "json")
		raw, err := json.Marshal(d.body)
		if err != nil {
			return nil, err
		}
		side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: d.platform, Credential: u.Credential, Library: d.lib,
			Report: u.Report, Month: d.month.String(), Status: 200, Size: int64(len(raw)), HarvestedAt: at,
			State: bibstat.StateOK, Release: d.release}
		sb, err := bibstat.EncodeSidecar(side)
		if err != nil {
			return nil, err
		}
		for k, v := range map[string][]byte{key: raw, bibstat.SidecarKey(key): sb} {
			if err := st.Put(ctx, k, bytes.NewReader(v)); err != nil {
				return nil, err
			}
		}
	}
	wh, err := transform.Open(ctx, filepath.Join(dir, "warehouse.duckdb"), transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if err := wh.PutLibraries(ctx, worldLibs); err != nil {
		return nil, err
	}
	sum, err := wh.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	if len(sum.Failed) > 0 {
		return nil, fmt.Errorf("world: %d harvests did not load, first %s: %s", len(sum.Failed), sum.Failed[0].Key, sum.Failed[0].Reason)
	}
	return wh, nil
})

// usage is a consistent set of counts from a base b: every relation the
// COUNTER Validator checks (Total ≥ Unique, Investigations ≥ Requests,
// Unique_Item ≥ Unique_Title) holds.
func usage(b int64, titles bool) map[string]int64 {
	u := map[string]int64{"Total_Item_Investigations": 6 * b, "Total_Item_Requests": 4 * b,
		"Unique_Item_Investigations": 3 * b, "Unique_Item_Requests": 2 * b}
	if titles {
		u["Unique_Title_Investigations"], u["Unique_Title_Requests"] = 2*b, b
	}
	return u
}

func worldDocs() []worldDoc {
	var docs []worldDoc
	for li, l := range worldLibs {
		for _, m := range bibstat.MonthsBetween(worldFirst, worldLast) {
			b := int64(li+1)*10 + int64(m.Mon)
			add := func(platform, report, release string, body map[string]any) {
				docs = append(docs, worldDoc{platform, report, release, l.ID, m, body})
			}
			r5 := m.Before(bibstat.Month{Year: 2025, Mon: 2})
			r51 := !m.Before(bibstat.Month{Year: 2025, Mon: 1})
			if r5 {
				add("nyheter", "pr", "5", r5Doc("PR", l, m, r5PR("nyheter", m, b, m.Mon != 11)))
				add("nyheter", "dr", "5", r5Doc("DR", l, m, r5DR(m, b, m.Mon != 11)))
				add("nyheter", "tr", "5", r5Doc("TR", l, m, r5TR(m, b)))
				add("arkiv", "pr", "5", r5Doc("PR", l, m, r5PR("arkiv", m, b, true)))
				add("arkiv", "ir", "5", r5Doc("IR", l, m, r5IR(m, b)))
			}
			if r51 {
				add("nyheter", "pr", "5.1", r51Doc("PR", l, m, r51PR("nyheter", m, b, "Newspaper_or_Newsletter", "Book", "Reference_Work")))
				add("nyheter", "dr", "5.1", r51Doc("DR", l, m, r51DR("nyheter", "Nyhetsbasen", "Database_Aggregated", m, b, "Newspaper_or_Newsletter", "Book")))
				add("nyheter", "tr", "5.1", r51Doc("TR", l, m, r51TR(m, b)))
				add("medier", "pr", "5.1", r51Doc("PR", l, m, r51PR("medier", m, b, "Audiovisual", "Article")))
				add("medier", "dr", "5.1", r51Doc("DR", l, m, r51DR("medier", "Filmbasen", "Database_Full", m, b, "Audiovisual")))
				add("medier", "ir", "5.1", r51Doc("IR", l, m, r51IR(m, b)))
			}
		}
	}
	return docs
}

var reportNames51 = map[string]string{"PR": "Platform Report", "DR": "Database Report", "TR": "Title Report", "IR": "Item Report"}

func r51Doc(id string, l transform.Library, m bibstat.Month, items []any) map[string]any {
	return map[string]any{"Report_Header": map[string]any{
		"Report_Name": reportNames51[id], "Report_ID": id, "Release": "5.1", "Institution_Name": l.Name,
		"Institution_ID": map[string]any{"ISIL": []string{l.ID.ISIL()}, "Proprietary": []string{"vendor:kunde-" + string(l.ID)}},
		"Report_Filters": map[string]any{"Begin_Date": m.First().Format(time.DateOnly), "End_Date": m.Last().Format(time.DateOnly)},
		"Created":        "2025-04-05T01:00:00Z", "Created_By": "world vendor", "Registry_Record": "",
		"Report_Attributes": map[string]any{"Attributes_To_Show": []string{"Access_Method"}},
	}, "Report_Items": items}
}

func perf51(m bibstat.Month, u map[string]int64) map[string]any {
	p := map[string]any{}
	for k, n := range u {
		p[k] = map[string]int64{m.String(): n}
	}
	return p
}

// at is an Attribute_Performance of one month; kv are its attributes.
func at(m bibstat.Month, u map[string]int64, kv ...string) map[string]any {
	a := map[string]any{"Performance": perf51(m, u)}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i]] = kv[i+1]
	}
	return a
}

func r51PR(platform string, m bibstat.Month, b int64, dataTypes ...string) []any {
	aps := []any{at(m, map[string]int64{"Searches_Platform": 5 * b}, "Data_Type", "Platform", "Access_Method", "Regular")}
	for i, dt := range dataTypes {
		titles := dt == "Book" || dt == "Reference_Work"
		aps = append(aps, at(m, usage(b+int64(i), titles), "Data_Type", dt, "Access_Method", "Regular"))
	}
	aps = append(aps, at(m, usage(1, false), "Data_Type", dataTypes[0], "Access_Method", "TDM"))
	return []any{map[string]any{"Platform": platform, "Attribute_Performance": aps}}
}

func r51DR(platform, database, dbType string, m bibstat.Month, b int64, dataTypes ...string) []any {
	aps := []any{at(m, map[string]int64{"Searches_Regular": 7 * b, "Searches_Automated": 3 * b, "Searches_Federated": b, "No_License": 2},
		"Data_Type", dbType, "Access_Method", "Regular")}
	for i, dt := range dataTypes {
		titles := dt == "Book" || dt == "Reference_Work"
		aps = append(aps, at(m, usage(b+int64(i), titles), "Data_Type", dt, "Access_Method", "Regular"))
	}
	return []any{map[string]any{"Database": database, "Publisher": "Forlaget", "Platform": platform,
		"Item_ID": map[string]string{"Proprietary": platform + ":db1"}, "Attribute_Performance": aps}}
}

func r51TR(m bibstat.Month, b int64) []any {
	return []any{
		map[string]any{"Title": "Nordisk tidsskrift", "Publisher": "Forlaget", "Platform": "nyheter",
			"Item_ID": map[string]string{"Online_ISSN": "1234-5678", "DOI": "10.1234/nt"},
			"Attribute_Performance": []any{
				at(m, usage(b, false), "Data_Type", "Journal", "YOP", "2020", "Access_Type", "Controlled", "Access_Method", "Regular"),
				at(m, usage(2, false), "Data_Type", "Journal", "YOP", "2024", "Access_Type", "Open", "Access_Method", "Regular"),
				at(m, map[string]int64{"No_License": 3, "Limit_Exceeded": 1}, "Data_Type", "Journal", "YOP", "2020", "Access_Type", "Controlled", "Access_Method", "Regular"),
			}},
		map[string]any{"Title": "Norsk bok", "Publisher": "Forlaget", "Platform": "nyheter",
			"Item_ID": map[string]string{"ISBN": "978-82-000-0000-1"},
			"Attribute_Performance": []any{
				at(m, usage(b, true), "Data_Type", "Book", "YOP", "2019", "Access_Type", "Controlled", "Access_Method", "Regular"),
				at(m, map[string]int64{"Limit_Exceeded": 4}, "Data_Type", "Book", "YOP", "2019", "Access_Type", "Controlled", "Access_Method", "Regular"),
			}},
		map[string]any{"Title": "Store norske", "Publisher": "Forlaget", "Platform": "nyheter",
			"Item_ID": map[string]string{"Proprietary": "nyheter:snl"},
			"Attribute_Performance": []any{
				at(m, usage(b+1, true), "Data_Type", "Reference_Work", "YOP", "2025", "Access_Type", "Controlled", "Access_Method", "Regular"),
			}},
	}
}

func r51IR(m bibstat.Month, b int64) []any {
	return []any{
		map[string]any{"Title": "Nordisk tidsskrift", "Data_Type": "Journal", "Item_ID": map[string]string{"Online_ISSN": "1234-5678"},
			"Items": []any{map[string]any{"Item": "En artikkel", "Publisher": "Forlaget", "Platform": "medier",
				"Item_ID":               map[string]string{"DOI": "10.1234/nt.1"},
				"Attribute_Performance": []any{at(m, usage(b, false), "Data_Type", "Article", "YOP", "2023", "Access_Type", "Open", "Access_Method", "Regular")}}}},
		map[string]any{"Items": []any{
			map[string]any{"Item": "Dokumentarfilm", "Publisher": "Filmselskapet", "Platform": "medier",
				"Item_ID": map[string]string{"Proprietary": "medier:film1"},
				"Attribute_Performance": []any{
					at(m, usage(b+2, false), "Data_Type", "Audiovisual", "YOP", "2021", "Access_Type", "Controlled", "Access_Method", "Regular"),
					at(m, map[string]int64{"No_License": 2}, "Data_Type", "Audiovisual", "YOP", "2021", "Access_Type", "Controlled", "Access_Method", "Regular"),
				}},
			map[string]any{"Item": "Radioprogram", "Publisher": "Filmselskapet", "Platform": "medier",
				"Attribute_Performance": []any{at(m, usage(b, false), "Data_Type", "Sound", "YOP", "2022", "Access_Type", "Controlled", "Access_Method", "Regular")}},
		}},
	}
}

// R5 documents: name/value headers, one Report_Item per attribute
// combination, Performance as periods of instances.
var reportNames5 = map[string]string{"PR": "Platform Master Report", "DR": "Database Master Report", "TR": "Title Master Report", "IR": "Item Master Report"}

func r5Doc(id string, l transform.Library, m bibstat.Month, items []any) map[string]any {
	return map[string]any{"Report_Header": map[string]any{
		"Report_Name": reportNames5[id], "Report_ID": id, "Release": "5", "Institution_Name": l.Name, "Customer_ID": "kunde-" + string(l.ID),
		"Institution_ID": []any{map[string]string{"Type": "ISIL", "Value": l.ID.ISIL()}},
		"Report_Filters": []any{map[string]string{"Name": "Begin_Date", "Value": m.First().Format(time.DateOnly)},
			map[string]string{"Name": "End_Date", "Value": m.Last().Format(time.DateOnly)}},
		"Created": "2025-04-05T01:00:00Z", "Created_By": "world vendor",
	}, "Report_Items": items}
}

func perf5(m bibstat.Month, u map[string]int64) []any {
	var inst []any
	for _, k := range slices.Sorted(maps.Keys(u)) {
		inst = append(inst, map[string]any{"Metric_Type": k, "Count": u[k]})
	}
	return []any{map[string]any{"Period": map[string]string{"Begin_Date": m.First().Format(time.DateOnly), "End_Date": m.Last().Format(time.DateOnly)},
		"Instance": inst}}
}

// item5 is an R5 Report_Item: fields, then kv attributes, then performance.
func item5(fields map[string]any, m bibstat.Month, u map[string]int64, kv ...string) map[string]any {
	it := map[string]any{"Performance": perf5(m, u)}
	for k, v := range fields {
		it[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		it[kv[i]] = kv[i+1]
	}
	return it
}

// r5PR: withDataType false is a PR harvested with Access_Method only.
func r5PR(platform string, m bibstat.Month, b int64, withDataType bool) []any {
	f := map[string]any{"Platform": platform}
	if !withDataType {
		u := usage(b, false)
		u["Searches_Platform"] = 5 * b
		return []any{item5(f, m, u, "Access_Method", "Regular")}
	}
	return []any{
		item5(f, m, map[string]int64{"Searches_Platform": 5 * b}, "Data_Type", "Platform", "Access_Method", "Regular"),
		item5(f, m, usage(b, false), "Data_Type", "Newspaper_or_Newsletter", "Access_Method", "Regular"),
		item5(f, m, usage(b, true), "Data_Type", "Book", "Access_Method", "Regular"),
		item5(f, m, usage(1, false), "Data_Type", "Database", "Access_Method", "Regular"),
	}
}

// r5DR: withDataType false is a DR harvested with Access_Method only, its
// searches, item metrics and denials in one item.
func r5DR(m bibstat.Month, b int64, withDataType bool) []any {
	f := map[string]any{"Database": "Nyhetsbasen", "Publisher": "Forlaget", "Platform": "nyheter",
		"Item_ID": []any{map[string]string{"Type": "Proprietary", "Value": "nyheter:db1"}}}
	searches := map[string]int64{"Searches_Regular": 7 * b, "Searches_Automated": 3 * b, "Searches_Federated": b, "No_License": 2}
	if !withDataType {
		u := usage(b, false)
		for k, n := range searches {
			u[k] = n
		}
		return []any{item5(f, m, u, "Access_Method", "Regular")}
	}
	return []any{
		item5(f, m, searches, "Data_Type", "Database", "Access_Method", "Regular"),
		item5(f, m, usage(b, false), "Data_Type", "Newspaper_or_Newsletter", "Access_Method", "Regular"),
		item5(f, m, usage(b, true), "Data_Type", "Book", "Access_Method", "Regular"),
	}
}

func r5TR(m bibstat.Month, b int64) []any {
	journal := map[string]any{"Title": "Nordisk tidsskrift", "Publisher": "Forlaget", "Platform": "nyheter",
		"Item_ID": []any{map[string]string{"Type": "Online_ISSN", "Value": "1234-5678"}}}
	book := map[string]any{"Title": "Norsk bok", "Publisher": "Forlaget", "Platform": "nyheter",
		"Item_ID": []any{map[string]string{"Type": "ISBN", "Value": "978-82-000-0000-1"}}}
	return []any{
		item5(journal, m, usage(b, false), "Data_Type", "Journal", "Section_Type", "Article", "YOP", "2020", "Access_Type", "Controlled", "Access_Method", "Regular"),
		item5(journal, m, usage(1, false), "Data_Type", "Journal", "Section_Type", "Article", "YOP", "2024", "Access_Type", "OA_Gold", "Access_Method", "Regular"),
		item5(book, m, usage(b, false), "Data_Type", "Book", "Section_Type", "Chapter", "YOP", "2019", "Access_Type", "Controlled", "Access_Method", "Regular"),
		item5(book, m, map[string]int64{"Unique_Title_Investigations": 2 * b, "Unique_Title_Requests": b}, "Data_Type", "Book", "YOP", "2019", "Access_Type", "Controlled", "Access_Method", "Regular"),
	}
}

func r5IR(m bibstat.Month, b int64) []any {
	article := map[string]any{"Item": "En eldre artikkel", "Publisher": "Forlaget", "Platform": "arkiv",
		"Item_ID":     []any{map[string]string{"Type": "DOI", "Value": "10.1234/old.1"}},
		"Item_Parent": map[string]any{"Item_Name": "Nordisk tidsskrift", "Data_Type": "Journal", "Item_ID": []any{map[string]string{"Type": "Online_ISSN", "Value": "1234-5678"}}}}
	film := map[string]any{"Item": "Gammel film", "Publisher": "Arkivet", "Platform": "arkiv",
		"Item_ID": []any{map[string]string{"Type": "Proprietary", "Value": "arkiv:f1"}}}
	return []any{
		item5(article, m, usage(b, false), "Data_Type", "Article", "YOP", "1999", "Access_Type", "OA_Gold", "Access_Method", "Regular"),
		item5(film, m, usage(b, false), "Data_Type", "Multimedia", "YOP", "1960", "Access_Type", "Controlled", "Access_Method", "Regular"),
		item5(film, m, usage(1, false), "Data_Type", "Repository_Item", "YOP", "1960", "Access_Type", "Controlled", "Access_Method", "TDM"),
	}
}
