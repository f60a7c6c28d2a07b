package agreements

import (
	"fmt"
	"io"
	"strings"
)

// WriteAgreement writes a, its participants and its history as the text
// "bibstat agreements show" prints.
func WriteAgreement(w io.Writer, a Agreement, history []HistoryRow) error {
	vat := "excl."
	if a.VATIncluded {
		vat = "incl."
	}
	alloc := string(a.Model)
	if a.BaseShare != nil {
		alloc += ", base_share " + a.BaseShare.FloatString(2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "id:            %s\nname:          %s\nvendor:        %s\nplatforms:     %s\n", a.ID, a.Name, a.Vendor, strings.Join(a.Platforms, ", "))
	fmt.Fprintf(&b, "data type:     %s; a use is %s\n", a.DataType, strings.Join(a.Metrics(), " + "))
	fmt.Fprintf(&b, "period:        %s–%s (%d months)\n", a.From, a.To, a.Months())
	fmt.Fprintf(&b, "price:         %s NOK incl. VAT, %s NOK excl. VAT (VAT rate %s; price_nok given %s VAT)\n",
		Round(a.PriceInclVAT()), Round(a.PriceExclVAT()), a.VATRate.FloatString(2), vat)
	fmt.Fprintf(&b, "allocation:    %s\nparticipants:\n", alloc)
	for _, p := range a.Participants {
		fmt.Fprintf(&b, "  %-16s %s–%s\n", p.Key(), p.Joined, p.Left)
	}
	b.WriteString("history:\n")
	for _, r := range history {
		fmt.Fprintf(&b, "  %s  %-8s %s (%s)\n", r.At.Format("2006-01-02 15:04:05"), r.Change, r.Summary, r.Source)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteList writes one line per agreement as "bibstat agreements list"
// prints them.
func WriteList(w io.Writer, as []Agreement) error {
	if len(as) == 0 {
		_, err := fmt.Fprintln(w, "no agreements; import some with 'bibstat agreements import FILE'")
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-28s %-17s %-24s %16s %-16s %s\n", "id", "name", "period", "platforms", "price incl. VAT", "allocation", "participants")
	for _, a := range as {
		fmt.Fprintf(&b, "%-20s %-28s %-17s %-24s %16s %-16s %d\n", a.ID, a.Name, a.From.String()+"–"+a.To.String(),
			strings.Join(a.Platforms, ","), Round(a.PriceInclVAT()), a.Model, len(a.Participants))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
