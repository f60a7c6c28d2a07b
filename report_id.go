package bibstat

import (
	"fmt"
	"strings"
)

// ReportID is a COUNTER report or standard view id in lower case, as it
// appears in SUSHI paths ("pr", "tr_j1"). Tabular headers use upper case;
// ParseReportID accepts both.
type ReportID string

// The COUNTER R5/R5.1 reports and standard views.
var ReportIDs = []ReportID{
	"pr", "pr_p1", "dr", "dr_d1", "dr_d2",
	"tr", "tr_b1", "tr_b2", "tr_b3", "tr_j1", "tr_j2", "tr_j3", "tr_j4",
	"ir", "ir_a1", "ir_m1",
}

// ParseReportID normalises s ("TR_J1", "tr_j1") to a known ReportID.
func ParseReportID(s string) (ReportID, error) {
	id := ReportID(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range ReportIDs {
		if id == known {
			return id, nil
		}
	}
	return "", fmt.Errorf("report id %q: %w", s, ErrUnknownReport)
}

// Upper is the id as tabular headers write it ("TR_J1").
func (r ReportID) Upper() string { return strings.ToUpper(string(r)) }
