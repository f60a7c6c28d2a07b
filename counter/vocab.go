package counter

import (
	"slices"
	"strings"
)

// The twelve Metric_Types, identical in R5 and R5.1 (CoP Tables 3.r–3.t).
const (
	SearchesRegular           = "Searches_Regular"
	SearchesAutomated         = "Searches_Automated"
	SearchesFederated         = "Searches_Federated"
	SearchesPlatform          = "Searches_Platform"
	TotalItemInvestigations   = "Total_Item_Investigations"
	TotalItemRequests         = "Total_Item_Requests"
	UniqueItemInvestigations  = "Unique_Item_Investigations"
	UniqueItemRequests        = "Unique_Item_Requests"
	UniqueTitleInvestigations = "Unique_Title_Investigations"
	UniqueTitleRequests       = "Unique_Title_Requests"
	NoLicense                 = "No_License"
	LimitExceeded             = "Limit_Exceeded"
)

// Groups of Metric_Types the reports are made of, each in the order the
// SUSHI server lists them (alphabetical, as the CoP's tables do).
var (
	// DatabaseSearchMetrics are DR's searches; PR has Searches_Platform instead.
	DatabaseSearchMetrics = []string{SearchesAutomated, SearchesFederated, SearchesRegular}
	// ItemMetrics are the investigations and requests counted per item.
	ItemMetrics = []string{TotalItemInvestigations, TotalItemRequests, UniqueItemInvestigations, UniqueItemRequests}
	// UsageMetrics are ItemMetrics and the per-title ones (Books and
	// Reference_Works only): every investigation and request metric.
	UsageMetrics = []string{TotalItemInvestigations, TotalItemRequests, UniqueItemInvestigations,
		UniqueItemRequests, UniqueTitleInvestigations, UniqueTitleRequests}
	// RequestMetrics are the item requests the Standard Views mostly show.
	RequestMetrics = []string{TotalItemRequests, UniqueItemRequests}
	// DenialMetrics are the access-denied metrics.
	DenialMetrics = []string{LimitExceeded, NoLicense}
)

// Metrics is the closed list of Metric_Types: a count under any other
// name is not COUNTER usage (FOLIO's fixture with Total_Chapter_Request).
var Metrics = []string{
	SearchesRegular, SearchesAutomated, SearchesFederated, SearchesPlatform,
	TotalItemInvestigations, TotalItemRequests, UniqueItemInvestigations, UniqueItemRequests,
	UniqueTitleInvestigations, UniqueTitleRequests, NoLicense, LimitExceeded,
}

// IsMetric says whether s is one of the twelve Metric_Types, spelt exactly.
func IsMetric(s string) bool { return slices.Contains(Metrics, s) }

// Reports are the R5 and R5.1 report IDs: each master report followed by
// its Standard Views, as the /reports list orders them.
var Reports = []string{
	"PR", "PR_P1",
	"DR", "DR_D1", "DR_D2",
	"TR", "TR_B1", "TR_B2", "TR_B3", "TR_J1", "TR_J2", "TR_J3", "TR_J4",
	"IR", "IR_A1", "IR_M1",
}

// Data_Type groups the Standard Views filter on (CoP 5.1 Tables 4.a–4.q).
var (
	BookDataTypes       = []string{"Book", "Reference_Work"}
	MultimediaDataTypes = []string{"Audiovisual", "Image", "Interactive_Resource", "Multimedia", "Sound"}
)

// AccessTypes are the R5.1 Access_Types; R5's were Controlled, OA_Gold
// and Other_Free_To_Read.
var AccessTypes = []string{"Controlled", "Open", "Free_To_Read"}

// AccessMethods are the Access_Methods of both releases. Standard Views
// show Regular only.
var AccessMethods = []string{"Regular", "TDM"}

// reportNames are the Report_Names of R5 (CoP 5.0.3 Table 3.a) and R5.1
// (Table 3.a), each with its report ID. A Report_ID that disagrees with
// its Report_Name is decided by the name (and the items' shape), because
// a vendor that mislabels one field rarely mislabels both.
var reportNames = map[string]string{
	"platform master report": "PR", "platform report": "PR", "platform usage": "PR_P1",
	"database master report": "DR", "database report": "DR",
	"database search and item usage": "DR_D1", "database access denied": "DR_D2",
	"title master report": "TR", "title report": "TR",
	"book requests (excluding oa_gold)": "TR_B1", "book requests (controlled)": "TR_B1",
	"book access denied": "TR_B2", "book usage by access type": "TR_B3",
	"journal requests (excluding oa_gold)": "TR_J1", "journal requests (controlled)": "TR_J1",
	"journal access denied": "TR_J2", "journal usage by access type": "TR_J3",
	"journal requests by yop (excluding oa_gold)": "TR_J4", "journal requests by yop (controlled)": "TR_J4",
	"item master report": "IR", "item report": "IR",
	"journal article requests": "IR_A1", "multimedia item requests": "IR_M1",
}

// reportByName is the report ID a Report_Name names, "" if none.
func reportByName(name string) string {
	return reportNames[strings.ToLower(strings.Join(strings.Fields(name), " "))]
}

// master is the master report a report ID belongs to: "TR" for "TR_J1".
func master(id string) string {
	if i := strings.IndexByte(id, '_'); i > 0 {
		return id[:i]
	}
	return id
}
