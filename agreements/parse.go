package agreements

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
)

// File is the agreements file as the consortium writes it. Scalars are kept
// as the text written (prices stay exact decimals); Parse turns it into
// Agreements. The warehouse stores each fileAgreement as JSON, so what was
// imported can be compared field by field with the next import.
type File struct {
	Agreements []fileAgreement `yaml:"agreements"`
}

type fileAgreement struct {
	ID           string            `yaml:"id" json:"id"`
	Name         string            `yaml:"name" json:"name"`
	Vendor       string            `yaml:"vendor" json:"vendor"`
	Platforms    []string          `yaml:"platforms" json:"platforms"`
	DataType     string            `yaml:"data_type" json:"data_type"`
	UseMetrics   []string          `yaml:"use_metrics,omitempty" json:"use_metrics,omitempty"`
	Period       filePeriod        `yaml:"period" json:"period"`
	PriceNOK     string            `yaml:"price_nok" json:"price_nok"`
	VATIncluded  *bool             `yaml:"vat_included" json:"vat_included"`
	VATRate      string            `yaml:"vat_rate" json:"vat_rate"`
	Allocation   fileAllocation    `yaml:"allocation" json:"allocation"`
	Participants []fileParticipant `yaml:"participants" json:"participants"`
	Note         string            `yaml:"note,omitempty" json:"note,omitempty"`
}

type filePeriod struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
}

type fileAllocation struct {
	Model     string `yaml:"model" json:"model"`
	BaseShare string `yaml:"base_share,omitempty" json:"base_share,omitempty"`
}

type fileParticipant struct {
	Library string `yaml:"library,omitempty" json:"library,omitempty"`
	County  string `yaml:"county,omitempty" json:"county,omitempty"`
	Joined  string `yaml:"joined,omitempty" json:"joined,omitempty"`
	Left    string `yaml:"left,omitempty" json:"left,omitempty"`
}

// FieldError is one problem in the agreements file, at a line and field.
type FieldError struct {
	File  string
	Line  int    // 0 when the agreement came from the warehouse, not a file
	Field string // e.g. "avisarkiv-2025.participants[2].library"
	Msg   string
	Err   error // the sentinel the problem is, when there is one (errors.Is)
}

func (e *FieldError) Unwrap() error { return e.Err }

func (e *FieldError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Parse reads an agreements file, named name in errors, and checks it
// against known. All problems are returned at once, joined, each a
// *FieldError naming the line and field.
func Parse(name string, r io.Reader, known Known) ([]Agreement, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return parse(name, b, &known)
}

// parse reads an agreements file and, unless known is nil, checks it
// against what exists. A stored import is replayed unchecked: it was
// checked when imported, and a rule added since must not lose it.
func parse(name string, b []byte, known *Known) ([]Agreement, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silently missing value
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: empty file", name)
		}
		return nil, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var out []Agreement
	var errs []error
	seen := map[string]int{}
	for i, fa := range f.Agreements {
		at := func(path ...any) int { return lineOf(&root, append([]any{"agreements", i}, path...)...) }
		a, aerrs := fa.agreement(name, at)
		errs = append(errs, aerrs...)
		if prev, dup := seen[a.ID]; dup && a.ID != "" {
			errs = append(errs, &FieldError{name, at("id"), a.ID + ".id", fmt.Sprintf("agreement %q is also defined at line %d", a.ID, prev), nil})
		}
		seen[a.ID] = at()
		if len(aerrs) == 0 && known != nil {
			errs = append(errs, check(name, a, *known, at)...)
		}
		out = append(out, a)
	}
	if len(f.Agreements) == 0 {
		errs = append(errs, &FieldError{name, 1, "agreements", "no agreements in the file", nil})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// yamlError restates the YAML decoder's errors as "file:line: message".
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if f, ok := strings.CutPrefix(msg, "field "); ok && strings.Contains(f, " not found in type") {
					msg = fmt.Sprintf("unknown field %q", f[:strings.Index(f, " not found")])
				}
				errs = append(errs, fmt.Errorf("%s:%s: %s", name, n, msg))
				continue
			}
		}
		errs = append(errs, fmt.Errorf("%s: %s", name, m))
	}
	return errors.Join(errs...)
}

// agreement converts the written form into an Agreement. at gives the line
// of a field path inside this agreement (0 when unknown).
func (fa fileAgreement) agreement(file string, at func(path ...any) int) (Agreement, []error) {
	var errs []error
	id := fa.ID
	if id == "" {
		id = "agreement"
	}
	bad := func(msg string, path ...any) {
		errs = append(errs, &FieldError{file, at(path...), id + "." + fieldName(path), msg, nil})
	}
	a := Agreement{ID: fa.ID, Name: fa.Name, Vendor: fa.Vendor, Platforms: fa.Platforms,
		DataType: DataType(fa.DataType), UseMetrics: fa.UseMetrics, Model: Model(fa.Allocation.Model), Line: at(), spec: fa}
	if fa.ID == "" {
		bad("missing: every agreement needs an id", "id")
	}
	if fa.Name == "" {
		bad("missing", "name")
	}
	if len(fa.Platforms) == 0 {
		bad("missing: name at least one platform", "platforms")
	}
	if _, ok := DefaultMetrics[a.DataType]; !ok {
		bad(fmt.Sprintf("%q: want content, database or multimedia", fa.DataType), "data_type")
	}
	for j, m := range fa.UseMetrics {
		if !isKnownMetric(m) {
			bad(fmt.Sprintf("%q is not a COUNTER Metric_Type", m), "use_metrics", j)
		}
	}
	var err error
	if a.From, err = parseMonth(fa.Period.From); err != nil {
		bad(err.Error(), "period", "from")
	}
	if a.To, err = parseMonth(fa.Period.To); err != nil {
		bad(err.Error(), "period", "to")
	}
	periodOK := !a.From.IsZero() && !a.To.IsZero()
	if periodOK && a.To.Before(a.From) {
		bad(fmt.Sprintf("period ends (%s) before it begins (%s)", a.To, a.From), "period", "to")
		periodOK = false
	}
	fa.price(&a, bad)
	fa.allocation(&a, bad)
	for j, fp := range fa.Participants {
		a.Participants = append(a.Participants, fp.participant(a, periodOK, at("participants", j), func(msg string, path ...any) {
			bad(msg, append([]any{"participants", j}, path...)...)
		}))
	}
	return a, errs
}

// badField records a problem with the field at path.
type badField func(msg string, path ...any)

// price reads the price and its VAT into a.
func (fa fileAgreement) price(a *Agreement, bad badField) {
	var err error
	if a.Price, err = parseDecimal(fa.PriceNOK); err != nil {
		bad("missing or not a number: "+err.Error(), "price_nok")
	} else if a.Price.Sign() < 0 {
		bad(fmt.Sprintf("negative price %s", fa.PriceNOK), "price_nok")
	}
	if fa.VATIncluded == nil {
		bad("missing: say whether price_nok includes VAT (true or false)", "vat_included")
	} else {
		a.VATIncluded = *fa.VATIncluded
	}
	if a.VATRate, err = parseDecimal(fa.VATRate); err != nil {
		bad("missing or not a number (0.25 for 25 %, 0 for exempt): "+err.Error(), "vat_rate")
	} else if a.VATRate.Sign() < 0 || a.VATRate.Cmp(big.NewRat(1, 1)) >= 0 {
		bad(fmt.Sprintf("%s: want a fraction from 0 to below 1, e.g. 0.25", fa.VATRate), "vat_rate")
	}
}

// allocation reads the allocation model and its base share into a.
func (fa fileAgreement) allocation(a *Agreement, bad badField) {
	var err error
	if !slices.Contains(models, a.Model) {
		bad(fmt.Sprintf("%q: want flat, population, usage or base_population", fa.Allocation.Model), "allocation", "model")
	}
	switch {
	case a.Model == ModelBasePopulation:
		if a.BaseShare, err = parseDecimal(fa.Allocation.BaseShare); err != nil {
			bad("base_population needs base_share, e.g. 0.3: "+err.Error(), "allocation", "base_share")
		} else if a.BaseShare.Sign() < 0 || a.BaseShare.Cmp(big.NewRat(1, 1)) > 0 {
			bad(fmt.Sprintf("%s: want a fraction from 0 to 1", fa.Allocation.BaseShare), "allocation", "base_share")
		}
	case fa.Allocation.BaseShare != "":
		bad("base_share belongs only to the base_population model", "allocation", "base_share")
	}
}

// participant reads one participant of a, on line; its paths are the
// participant's own fields. Its months are checked against a's period
// when that is sound (periodOK).
func (fp fileParticipant) participant(a Agreement, periodOK bool, line int, bad badField) Participant {
	p := Participant{Library: bibstat.LibraryID(fp.Library), County: fp.County, Line: line}
	var err error
	switch {
	case fp.Library != "" && fp.County != "":
		bad("give library or county, not both")
	case fp.Library != "":
		if p.Library, err = bibstat.ParseLibraryID(fp.Library); err != nil {
			bad(err.Error(), "library")
		}
	case fp.County != "":
		if len(fp.County) != 2 || strings.Trim(fp.County, "0123456789") != "" {
			bad(fmt.Sprintf("county %q: want a two-digit county number, e.g. \"03\"", fp.County), "county")
		}
	default:
		bad("give library (bibnr) or county (fylkesnummer)")
	}
	p.Joined, p.Left = a.From, a.To
	if fp.Joined != "" {
		if p.Joined, err = parseMonth(fp.Joined); err != nil {
			bad(err.Error(), "joined")
		}
	}
	if fp.Left != "" {
		if p.Left, err = parseMonth(fp.Left); err != nil {
			bad(err.Error(), "left")
		}
	}
	if periodOK && !p.Joined.IsZero() && !p.Left.IsZero() {
		switch {
		case p.Left.Before(p.Joined):
			bad(fmt.Sprintf("left (%s) before joined (%s)", p.Left, p.Joined), "left")
		case p.Joined.Before(a.From):
			bad(fmt.Sprintf("joined %s is before the agreement period %s–%s", p.Joined, a.From, a.To), "joined")
		case a.To.Before(p.Left):
			bad(fmt.Sprintf("left %s is after the agreement period %s–%s", p.Left, a.From, a.To), "left")
		}
	}
	return p
}

// check validates an agreement against what exists and what may overlap.
func check(file string, a Agreement, known Known, at func(path ...any) int) []error {
	var errs []error
	bad := func(msg string, path ...any) {
		errs = append(errs, &FieldError{file, at(path...), a.ID + "." + fieldName(path), msg, nil})
	}
	if t, u, mixed := mixedMetrics(a.UseMetrics); mixed {
		errs = append(errs, &FieldError{file, at("use_metrics"), a.ID + ".use_metrics",
			fmt.Sprintf("%s + %s: %v", t, u, ErrUniqueWithTotal), ErrUniqueWithTotal})
	}
	for j, pl := range a.Platforms {
		if known.Platforms != nil && !known.Platforms[pl] {
			bad(fmt.Sprintf("unknown platform %q", pl), "platforms", j)
		}
	}
	for j, p := range a.Participants {
		if p.Library != "" && known.Libraries != nil && !known.Libraries[p.Library] {
			bad(fmt.Sprintf("unknown library %s", p.Library), "participants", j, "library")
		}
		if p.County != "" {
			if known.Counties != nil && !known.Counties[p.County] {
				bad(fmt.Sprintf("unknown county %s", p.County), "participants", j, "county")
			} else if m, why := countyGap(p.County, p.Joined, p.Left); !m.IsZero() {
				bad(why, "participants", j, "county")
			}
		}
		if muni, ok := known.Municipalities[p.Library]; ok && p.Library != "" {
			if m, why := municipalityGap(muni, p.Joined, p.Left); !m.IsZero() {
				bad(fmt.Sprintf("%s: %s", p.Key(), why), "participants", j, "library")
			}
		}
		for k := range j {
			q := a.Participants[k]
			if q.Key() == p.Key() && !p.Left.Before(q.Joined) && !q.Left.Before(p.Joined) {
				bad(fmt.Sprintf("%s takes part %s–%s, overlapping its participation %s–%s at line %d",
					p.Key(), p.Joined, p.Left, q.Joined, q.Left, q.Line), "participants", j)
			}
		}
	}
	return errs
}

func parseMonth(s string) (bibstat.Month, error) {
	if s == "" {
		return bibstat.Month{}, errors.New("missing: want a month YYYY-MM")
	}
	m, err := bibstat.ParseMonth(s)
	if err != nil {
		return bibstat.Month{}, fmt.Errorf("%q: want a month YYYY-MM (agreements run in whole months)", s)
	}
	return m, nil
}

// fieldName writes a path as "participants[2].library".
func fieldName(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	if b.Len() == 0 {
		return "id"
	}
	return b.String()
}

// lineOf returns the line of the node at path (mapping keys and sequence
// indexes) under a YAML document, or of the deepest node found on the way.
func lineOf(n *yaml.Node, path ...any) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch v := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
