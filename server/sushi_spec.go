package server

import (
	"slices"

	"github.com/bibliotek24/bibstat/counter"
)

// spec is one COUNTER report the SUSHI server offers: a master report or a
// standard view of one (CoP 5.1 §4 and tables 4.a–4.q).
type spec struct {
	ID     string // as in Report_Header, e.g. "TR_B1"
	Name   string
	Master string // PR, DR, TR or IR
	// Metrics: for a view the fixed Metric_Type filter (in the schema's
	// order); for a master the metric types it may carry.
	Metrics []string
	// DataTypes: a view's fixed Data_Type filter; a master's allowed values.
	DataTypes []string
	// AccessTypes: a view's fixed Access_Type filter (nil: none).
	AccessTypes []string
	// Attrs: a view's fixed columns of Attribute_Performance; for a master
	// the Attributes_To_Show it supports (Data_Type is always shown).
	Attrs []string
	Desc  string
}

func (s *spec) view() bool { return s.ID != s.Master }

// The fixed filters of the Standard Views that counter has no name for.
var (
	journal    = []string{"Journal"}
	controlled = []string{"Controlled"}
)

// specs are every report, in the order /r51/reports lists them.
var specs = []*spec{
	{ID: "PR", Name: "Platform Report", Master: "PR", Desc: "Platform-level usage, customizable.",
		Metrics:   append([]string{counter.SearchesPlatform}, counter.UsageMetrics...),
		DataTypes: []string{"Article", "Audiovisual", "Book", "Book_Segment", "Conference", "Conference_Item", "Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Journal", "Multimedia", "News_Item", "Newspaper_or_Newsletter", "Other", "Patent", "Platform", "Reference_Item", "Reference_Work", "Report", "Software", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"Access_Method"}},
	{ID: "PR_P1", Name: "Platform Usage", Master: "PR", Desc: "Platform-level usage, regular access.",
		Metrics: []string{counter.SearchesPlatform, counter.TotalItemRequests, counter.UniqueItemRequests, counter.UniqueTitleRequests},
		Attrs:   []string{"Data_Type"}},
	{ID: "DR", Name: "Database Report", Master: "DR", Desc: "Database-level usage, customizable.",
		Metrics:   slices.Concat(counter.DatabaseSearchMetrics, counter.UsageMetrics, counter.DenialMetrics),
		DataTypes: []string{"Audiovisual", "Book", "Conference", "Database_Aggregated", "Database_AI", "Database_Full", "Database_Full_Item", "Image", "Interactive_Resource", "Journal", "Multimedia", "Newspaper_or_Newsletter", "Other", "Patent", "Reference_Work", "Report", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"Access_Method"}},
	{ID: "DR_D1", Name: "Database Search and Item Usage", Master: "DR", Desc: "Searches and item usage per database.",
		Metrics: slices.Concat(counter.DatabaseSearchMetrics, counter.ItemMetrics)},
	{ID: "DR_D2", Name: "Database Access Denied", Master: "DR", Desc: "Access denied per database.", Metrics: counter.DenialMetrics},
	{ID: "TR", Name: "Title Report", Master: "TR", Desc: "Title-level usage, customizable.",
		Metrics:   slices.Concat(counter.UsageMetrics, counter.DenialMetrics),
		DataTypes: []string{"Book", "Conference", "Journal", "Newspaper_or_Newsletter", "Other", "Patent", "Reference_Work", "Report", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"YOP", "Access_Type", "Access_Method"}},
	{ID: "TR_B1", Name: "Book Requests (Controlled)", Master: "TR", Desc: "Book requests, controlled access.",
		Metrics: []string{counter.TotalItemRequests, counter.UniqueTitleRequests}, DataTypes: counter.BookDataTypes, AccessTypes: controlled, Attrs: []string{"Data_Type", "YOP"}},
	{ID: "TR_B2", Name: "Book Access Denied", Master: "TR", Desc: "Book access denied.",
		Metrics: counter.DenialMetrics, DataTypes: counter.BookDataTypes, Attrs: []string{"Data_Type", "YOP"}},
	{ID: "TR_B3", Name: "Book Usage by Access Type", Master: "TR", Desc: "Book usage by access type.",
		Metrics: counter.UsageMetrics, DataTypes: counter.BookDataTypes, Attrs: []string{"Data_Type", "YOP", "Access_Type"}},
	{ID: "TR_J1", Name: "Journal Requests (Controlled)", Master: "TR", Desc: "Journal requests, controlled access.",
		Metrics: counter.RequestMetrics, DataTypes: journal, AccessTypes: controlled},
	{ID: "TR_J2", Name: "Journal Access Denied", Master: "TR", Desc: "Journal access denied.", Metrics: counter.DenialMetrics, DataTypes: journal},
	{ID: "TR_J3", Name: "Journal Usage by Access Type", Master: "TR", Desc: "Journal usage by access type.",
		Metrics: counter.ItemMetrics, DataTypes: journal, Attrs: []string{"Access_Type"}},
	{ID: "TR_J4", Name: "Journal Requests by YOP (Controlled)", Master: "TR", Desc: "Journal requests by year of publication.",
		Metrics: counter.RequestMetrics, DataTypes: journal, AccessTypes: controlled, Attrs: []string{"YOP"}},
	{ID: "IR", Name: "Item Report", Master: "IR", Desc: "Item-level usage, customizable.",
		Metrics:   slices.Concat(counter.ItemMetrics, counter.DenialMetrics),
		DataTypes: []string{"Article", "Audiovisual", "Book_Segment", "Conference_Item", "Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Multimedia", "News_Item", "Other", "Patent", "Reference_Item", "Report", "Software", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"YOP", "Access_Type", "Access_Method"}},
	{ID: "IR_A1", Name: "Journal Article Requests", Master: "IR", Desc: "Journal article requests.",
		Metrics: counter.RequestMetrics, DataTypes: []string{"Article"}, Attrs: []string{"Access_Type"}},
	{ID: "IR_M1", Name: "Multimedia Item Requests", Master: "IR", Desc: "Multimedia item requests.",
		Metrics: counter.RequestMetrics, DataTypes: counter.MultimediaDataTypes, Attrs: []string{"Data_Type"}},
}

func specByPath(id string) *spec {
	for _, s := range specs {
		if lower(s.ID) == id {
			return s
		}
	}
	return nil
}

// commonParams are recognised by every report path.
var commonParams = []string{"customer_id", "requestor_id", "api_key", "platform", "begin_date", "end_date"}

// masterParams are the further parameters of each master report.
var masterParams = map[string][]string{
	"PR": {"metric_type", "data_type", "access_method", "attributes_to_show", "granularity", "attributed", "country_code", "subdivision_code"},
	"DR": {"metric_type", "data_type", "access_method", "attributes_to_show", "granularity", "database", "attributed", "country_code", "subdivision_code"},
	"TR": {"metric_type", "data_type", "access_method", "attributes_to_show", "granularity", "access_type", "yop", "item_id", "attributed", "country_code", "subdivision_code"},
	"IR": {"metric_type", "data_type", "access_method", "attributes_to_show", "granularity", "access_type", "yop", "item_id", "author",
		"include_parent_details", "include_component_details", "attributed", "country_code", "subdivision_code"},
}
