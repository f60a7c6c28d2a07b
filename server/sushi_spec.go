package server

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

var (
	invReq = []string{"Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations",
		"Unique_Item_Requests", "Unique_Title_Investigations", "Unique_Title_Requests"}
	denials    = []string{"Limit_Exceeded", "No_License"}
	books      = []string{"Book", "Reference_Work"}
	journal    = []string{"Journal"}
	multimedia = []string{"Audiovisual", "Image", "Interactive_Resource", "Multimedia", "Sound"}
	controlled = []string{"Controlled"}
	itemMetric = []string{"Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations", "Unique_Item_Requests"}
	reqOnly    = []string{"Total_Item_Requests", "Unique_Item_Requests"}
)

// specs are every report, in the order /r51/reports lists them.
var specs = []*spec{
	{ID: "PR", Name: "Platform Report", Master: "PR", Desc: "Platform-level usage, customizable.",
		Metrics:   append([]string{"Searches_Platform"}, invReq...),
		DataTypes: []string{"Article", "Audiovisual", "Book", "Book_Segment", "Conference", "Conference_Item", "Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Journal", "Multimedia", "News_Item", "Newspaper_or_Newsletter", "Other", "Patent", "Platform", "Reference_Item", "Reference_Work", "Report", "Software", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"Access_Method"}},
	{ID: "PR_P1", Name: "Platform Usage", Master: "PR", Desc: "Platform-level usage, regular access.",
		Metrics: []string{"Searches_Platform", "Total_Item_Requests", "Unique_Item_Requests", "Unique_Title_Requests"},
		Attrs:   []string{"Data_Type"}},
	{ID: "DR", Name: "Database Report", Master: "DR", Desc: "Database-level usage, customizable.",
		Metrics:   append(append([]string{"Searches_Automated", "Searches_Federated", "Searches_Regular"}, invReq...), denials...),
		DataTypes: []string{"Audiovisual", "Book", "Conference", "Database_Aggregated", "Database_AI", "Database_Full", "Database_Full_Item", "Image", "Interactive_Resource", "Journal", "Multimedia", "Newspaper_or_Newsletter", "Other", "Patent", "Reference_Work", "Report", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"Access_Method"}},
	{ID: "DR_D1", Name: "Database Search and Item Usage", Master: "DR", Desc: "Searches and item usage per database.",
		Metrics: []string{"Searches_Automated", "Searches_Federated", "Searches_Regular", "Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations", "Unique_Item_Requests"}},
	{ID: "DR_D2", Name: "Database Access Denied", Master: "DR", Desc: "Access denied per database.", Metrics: denials},
	{ID: "TR", Name: "Title Report", Master: "TR", Desc: "Title-level usage, customizable.",
		Metrics:   append(append([]string{}, invReq...), denials...),
		DataTypes: []string{"Book", "Conference", "Journal", "Newspaper_or_Newsletter", "Other", "Patent", "Reference_Work", "Report", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"YOP", "Access_Type", "Access_Method"}},
	{ID: "TR_B1", Name: "Book Requests (Controlled)", Master: "TR", Desc: "Book requests, controlled access.",
		Metrics: []string{"Total_Item_Requests", "Unique_Title_Requests"}, DataTypes: books, AccessTypes: controlled, Attrs: []string{"Data_Type", "YOP"}},
	{ID: "TR_B2", Name: "Book Access Denied", Master: "TR", Desc: "Book access denied.",
		Metrics: denials, DataTypes: books, Attrs: []string{"Data_Type", "YOP"}},
	{ID: "TR_B3", Name: "Book Usage by Access Type", Master: "TR", Desc: "Book usage by access type.",
		Metrics: invReq, DataTypes: books, Attrs: []string{"Data_Type", "YOP", "Access_Type"}},
	{ID: "TR_J1", Name: "Journal Requests (Controlled)", Master: "TR", Desc: "Journal requests, controlled access.",
		Metrics: reqOnly, DataTypes: journal, AccessTypes: controlled},
	{ID: "TR_J2", Name: "Journal Access Denied", Master: "TR", Desc: "Journal access denied.", Metrics: denials, DataTypes: journal},
	{ID: "TR_J3", Name: "Journal Usage by Access Type", Master: "TR", Desc: "Journal usage by access type.",
		Metrics: itemMetric, DataTypes: journal, Attrs: []string{"Access_Type"}},
	{ID: "TR_J4", Name: "Journal Requests by YOP (Controlled)", Master: "TR", Desc: "Journal requests by year of publication.",
		Metrics: reqOnly, DataTypes: journal, AccessTypes: controlled, Attrs: []string{"YOP"}},
	{ID: "IR", Name: "Item Report", Master: "IR", Desc: "Item-level usage, customizable.",
		Metrics:   append(append([]string{}, itemMetric...), denials...),
		DataTypes: []string{"Article", "Audiovisual", "Book_Segment", "Conference_Item", "Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Multimedia", "News_Item", "Other", "Patent", "Reference_Item", "Report", "Software", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"},
		Attrs:     []string{"YOP", "Access_Type", "Access_Method"}},
	{ID: "IR_A1", Name: "Journal Article Requests", Master: "IR", Desc: "Journal article requests.",
		Metrics: reqOnly, DataTypes: []string{"Article"}, Attrs: []string{"Access_Type"}},
	{ID: "IR_M1", Name: "Multimedia Item Requests", Master: "IR", Desc: "Multimedia item requests.",
		Metrics: reqOnly, DataTypes: multimedia, Attrs: []string{"Data_Type"}},
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

// exceptionMessages are the CoP 5.1 Table D.1 messages, which must match exactly.
var exceptionMessages = map[int]string{
	1000: "Service Not Available",
	1020: "Client has made too many requests",
	1030: "Insufficient Information to Process Request",
	2000: "Requestor Not Authorized to Access Service",
	2010: "Requestor is Not Authorized to Access Usage for Institution",
	2020: "APIKey Invalid",
	3020: "Invalid Date Arguments",
	3030: "No Usage Available for Requested Dates",
	3031: "Usage Not Ready for Requested Dates",
	3050: "Parameter Not Recognized in this Context",
	3060: "Invalid ReportFilter Value",
	3062: "Invalid ReportAttribute Value",
	3063: "Components Not Supported",
}

// exceptionStatus is the HTTP status of the fatal exceptions.
var exceptionStatus = map[int]int{1000: 503, 1020: 429, 1030: 400, 2000: 401, 2010: 403, 2020: 401, 3020: 400}
