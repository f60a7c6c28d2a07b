package counter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// r51Report is the R5.1 JSON report layout, as far as this reader needs it.
type r51Report struct {
	Header *struct {
		ReportName      string              `json:"Report_Name"`
		ReportID        string              `json:"Report_ID"`
		Release         string              `json:"Release"`
		InstitutionName string              `json:"Institution_Name"`
		InstitutionID   map[string][]string `json:"Institution_ID"`
		Created         string              `json:"Created"`
		CreatedBy       string              `json:"Created_By"`
		Filters         struct {
			Begin string `json:"Begin_Date"`
			End   string `json:"End_Date"`
		} `json:"Report_Filters"`
		Exceptions []Exception `json:"Exceptions"`
	} `json:"Report_Header"`
	Items []struct {
		Platform    string `json:"Platform"`
		Performance []struct {
			DataType     string                      `json:"Data_Type"`
			AccessMethod string                      `json:"Access_Method"`
			Performance  map[string]map[string]int64 `json:"Performance"`
		} `json:"Attribute_Performance"`
	} `json:"Report_Items"`
}

func readJSON(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error) (*Document, error) {
	doc := &Document{}
	var rep r51Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return doc, fmt.Errorf("parse json: %w", err)
	}
	if rep.Header == nil {
		return doc, fmt.Errorf("parse json: no Report_Header")
	}
	h := rep.Header
	doc.Kind, doc.Release, doc.ReportID = KindReport, h.Release, strings.ToUpper(h.ReportID)
	if doc.Release != "5.1" {
		return doc, fmt.Errorf("release %q is not supported", h.Release)
	}
	doc.Exceptions = h.Exceptions
	doc.Header = Header{ReportName: h.ReportName, InstitutionName: h.InstitutionName,
		InstitutionID: institutionIDs(h.InstitutionID), Created: h.Created, CreatedBy: h.CreatedBy}
	if len(h.Filters.Begin) >= 7 {
		doc.Header.Begin, _ = bibstat.ParseMonth(h.Filters.Begin[:7])
	}
	if len(h.Filters.End) >= 7 {
		doc.Header.End, _ = bibstat.ParseMonth(h.Filters.End[:7])
	}

	bt := schemas.NewBatcher(opts.Mem, opts.BatchRows, emit)
	defer bt.Release()
	row := schemas.Row{Release: doc.Release, ReportID: doc.ReportID, InstitutionName: h.InstitutionName,
		InstitutionID: doc.Header.InstitutionID, SourceKey: opts.SourceKey}
	for _, it := range rep.Items {
		if err := ctx.Err(); err != nil {
			return doc, err
		}
		row.Platform = it.Platform
		for _, ap := range it.Performance {
			row.DataType, row.AccessMethod = ap.DataType, ap.AccessMethod
			for metric, months := range ap.Performance {
				row.MetricType = metric
				for ym, n := range months {
					m, err := bibstat.ParseMonth(ym)
					if err != nil {
						return doc, fmt.Errorf("item %q metric %s: %w", it.Platform, metric, err)
					}
					row.Month, row.Count = m.First(), n
					if err := bt.Add(&row); err != nil {
						return doc, err
					}
					doc.count(metric, m, n)
				}
			}
		}
	}
	return doc, bt.Flush()
}

// institutionIDs writes an R5.1 Institution_ID object in the tabular form
// "ISIL:NO-2030100; Proprietary:x:y", namespaces sorted for stable output.
func institutionIDs(ids map[string][]string) string {
	var parts []string
	for ns, vals := range ids {
		for _, v := range vals {
			if ns == "Proprietary" {
				parts = append(parts, v)
			} else {
				parts = append(parts, ns+":"+v)
			}
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
