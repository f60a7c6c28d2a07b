package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

// Mapping describes one vendor's non-COUNTER file layout: where the table
// is, which columns say library, month and counts, and what each count is
// in COUNTER terms. It is read from YAML; see testdata/mappings for examples.
type Mapping struct {
	Vendor    string       `yaml:"vendor"`
	Platform  string       `yaml:"platform"` // stamped on every row unless columns.platform is set
	Report    string       `yaml:"report"`   // report id on every row; default "VENDOR"
	Format    string       `yaml:"format"`   // "csv" or "xlsx"; default sniffed from the bytes
	Delimiter string       `yaml:"delimiter"`
	Sheet     string       `yaml:"sheet"`      // XLSX sheet; default the first
	HeaderRow int          `yaml:"header_row"` // 1-based; default 1
	DataStart int          `yaml:"data_start"` // 1-based; default header_row + 1
	SkipRows  string       `yaml:"skip_rows_matching"`
	Numbers   NumberFormat `yaml:"numbers"`

	Library      LibrarySpec       `yaml:"library"`
	Month        MonthSpec         `yaml:"month"`
	Metrics      []MetricSpec      `yaml:"metrics"`       // month as a column: one count column per metric
	Metric       string            `yaml:"metric"`        // months as columns: what every month cell counts
	MetricColumn string            `yaml:"metric_column"` // months as columns: or a column naming the metric
	MetricTable  map[string]string `yaml:"metric_table"`  // vendor's metric name → COUNTER metric
	Columns      map[string]string `yaml:"columns"`       // usage field → column header
	Constants    map[string]string `yaml:"constants"`     // usage field → value

	name    string         // file name, for errors
	skipRE  *regexp.Regexp // compiled SkipRows
	root    *yaml.Node     // for line numbers in validation errors
	sha256  string         // of the YAML bytes: which version of the mapping was used
	content []byte
}

// LibrarySpec says which column identifies the library and how.
type LibrarySpec struct {
	Column string            `yaml:"column"`
	By     string            `yaml:"by"`    // bibnr, isil, name or account
	Table  map[string]string `yaml:"table"` // name or vendor account id → bibnr
}

// MonthSpec says where the month is: one column, or the header of each
// month column ("januar", "2025-01", …) when Unpivot is set.
type MonthSpec struct {
	Column     string `yaml:"column"`
	Unpivot    bool   `yaml:"unpivot"`
	Year       int    `yaml:"year"`        // for months named without a year
	YearColumn string `yaml:"year_column"` // or a column holding the year
}

// MetricSpec maps one count column to a COUNTER metric.
type MetricSpec struct {
	Column string `yaml:"column"`
	Metric string `yaml:"metric"`
}

// MaxMappingBytes bounds a mapping file: a mapping is a page of YAML.
const MaxMappingBytes = 256 << 10

// Error is a mistake in a mapping file, at a key and line.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted path, e.g. "library.by"
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += fmt.Sprintf(":%d", e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("mapping %s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("mapping %s: %s", loc, e.Msg)
}

// Parse reads a mapping from r. Unknown keys are errors, and every
// error names the file, line and key.
func Parse(r io.Reader, name string) (*Mapping, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMappingBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read mapping %s: %w", name, err)
	}
	if len(data) > MaxMappingBytes {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", MaxMappingBytes)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: name, Msg: yamlMsg(err)}
	}
	m := &Mapping{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty mapping"}
		}
		return nil, &Error{File: name, Msg: yamlMsg(err)}
	}
	m.name, m.root, m.content = name, &root, data
	sum := sha256.Sum256(data)
	m.sha256 = hex.EncodeToString(sum[:])
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// yamlMsg flattens yaml.v3's multi-line errors ("yaml: unmarshal errors:\n  line 3: …").
func yamlMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	return strings.Join(strings.Fields(s), " ")
}

// LoadDir reads every *.yaml and *.yml in dir, keyed by vendor.
func LoadDir(dir string) (map[string]*Mapping, error) {
	out := map[string]*Mapping{}
	if dir == "" {
		return out, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil {
		return nil, fmt.Errorf("load mappings: %w", err)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := Parse(f, n)
		f.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := out[m.Vendor]; ok {
			errs = append(errs, &Error{File: n, Key: "vendor", Line: m.line("vendor"),
				Msg: fmt.Sprintf("vendor %q is already mapped by %s", m.Vendor, prev.name)})
			continue
		}
		out[m.Vendor] = m
	}
	return out, errors.Join(errs...)
}

// Name is the mapping's file name.
func (m *Mapping) Name() string { return m.name }

// SHA256 is the hex checksum of the mapping's YAML.
func (m *Mapping) SHA256() string { return m.sha256 }

// Content is the mapping's YAML as read, for the archive: the bytes a
// rebuild reads the vendor's files through again.
func (m *Mapping) Content() []byte { return m.content }

// fieldSetters are the usage fields a mapping may fill from a column or a constant.
var fieldSetters = map[string]func(*schemas.Row) *string{
	"platform":         func(r *schemas.Row) *string { return &r.Platform },
	"title":            func(r *schemas.Row) *string { return &r.Title },
	"publisher":        func(r *schemas.Row) *string { return &r.Publisher },
	"publisher_id":     func(r *schemas.Row) *string { return &r.PublisherID },
	"data_type":        func(r *schemas.Row) *string { return &r.DataType },
	"section_type":     func(r *schemas.Row) *string { return &r.SectionType },
	"access_type":      func(r *schemas.Row) *string { return &r.AccessType },
	"access_method":    func(r *schemas.Row) *string { return &r.AccessMethod },
	"database":         func(r *schemas.Row) *string { return &r.Database },
	"doi":              func(r *schemas.Row) *string { return &r.DOI },
	"isbn":             func(r *schemas.Row) *string { return &r.ISBN },
	"print_issn":       func(r *schemas.Row) *string { return &r.PrintISSN },
	"online_issn":      func(r *schemas.Row) *string { return &r.OnlineISSN },
	"proprietary_id":   func(r *schemas.Row) *string { return &r.ProprietaryID },
	"institution_name": func(r *schemas.Row) *string { return &r.InstitutionName },
}

// validate checks a parsed mapping and fills in its defaults, one section
// at a time in the file's order; the first mistake is the error.
func (m *Mapping) validate() error {
	for _, check := range []func() error{m.validateLayout, m.validateLibrary, m.validateMonth, m.validateMetrics, m.validateFields} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// bad is a Error at key.
func (m *Mapping) bad(msg string, key ...string) error {
	return &Error{File: m.name, Line: m.line(key...), Key: strings.Join(key, "."), Msg: msg}
}

// validateLayout checks where the table is and how its cells are written.
func (m *Mapping) validateLayout() error {
	if err := bibstat.CheckSegment(m.Vendor); err != nil || strings.ToLower(m.Vendor) != m.Vendor {
		return m.bad("want a lower-case id of letters, digits, '.', '_' or '-'", "vendor")
	}
	if m.Report == "" {
		m.Report = "VENDOR"
	}
	if rep := strings.ToLower(m.Report); bibstat.CheckSegment(rep) != nil || rep == "files" || rep == "mappings" {
		return m.bad(fmt.Sprintf("%q cannot name a report", m.Report), "report")
	}
	switch m.Format {
	case "", "csv", "xlsx":
	default:
		return m.bad(fmt.Sprintf("want csv or xlsx, got %q", m.Format), "format")
	}
	if len([]rune(m.Delimiter)) > 1 || m.Delimiter == "\"" || m.Delimiter == "\n" || m.Delimiter == "\r" {
		return m.bad(fmt.Sprintf("want one character, got %q", m.Delimiter), "delimiter")
	}
	if m.HeaderRow == 0 {
		m.HeaderRow = 1
	}
	if m.HeaderRow < 1 || m.HeaderRow > maxHeaderRow {
		return m.bad(fmt.Sprintf("want 1 to %d, got %d", maxHeaderRow, m.HeaderRow), "header_row")
	}
	if m.DataStart == 0 {
		m.DataStart = m.HeaderRow + 1
	}
	if m.DataStart <= m.HeaderRow || m.DataStart > maxHeaderRow+1 {
		return m.bad(fmt.Sprintf("want a row after header_row %d, got %d", m.HeaderRow, m.DataStart), "data_start")
	}
	if m.SkipRows != "" {
		re, err := regexp.Compile(m.SkipRows)
		if err != nil {
			return m.bad(fmt.Sprintf("not a regular expression: %v", err), "skip_rows_matching")
		}
		m.skipRE = re
	}
	switch m.Numbers {
	case "":
		m.Numbers = NumbersAuto
	case NumbersAuto, NumbersNO, NumbersEN:
	default:
		return m.bad(fmt.Sprintf("want auto, no or en, got %q", m.Numbers), "numbers")
	}
	return nil
}

// validateLibrary checks how a row names its library.
func (m *Mapping) validateLibrary() error {
	switch m.Library.By {
	case "bibnr", "isil":
	case "name", "account":
		if len(m.Library.Table) == 0 {
			return m.bad(fmt.Sprintf("library.by %s needs a table of %s → library number", m.Library.By, m.Library.By), "library", "table")
		}
	case "":
		if m.Library.Column != "" {
			return m.bad("want bibnr, isil, name or account", "library", "by")
		}
	default:
		return m.bad(fmt.Sprintf("want bibnr, isil, name or account, got %q", m.Library.By), "library", "by")
	}
	if m.Library.Column == "" && m.Library.By != "" {
		return m.bad("library.by is set but no column holds the library", "library", "column")
	}
	for _, k := range sortedKeys(m.Library.Table) {
		if _, err := bibstat.ParseLibraryID(m.Library.Table[k]); err != nil {
			return m.bad(fmt.Sprintf("entry %q: %v", k, err), "library", "table", k)
		}
	}
	m.Library.Table = foldKeys(m.Library.Table)
	return nil
}

// validateMonth checks where a row's month is.
func (m *Mapping) validateMonth() error {
	mo := m.Month
	switch {
	case mo.Unpivot && mo.Column != "":
		return m.bad("set either month.column or month.unpivot, not both", "month")
	case !mo.Unpivot && mo.Column == "":
		return m.bad("want month.column, or month.unpivot: true when months are columns", "month")
	case mo.Year != 0 && (mo.Year < 1990 || mo.Year > 2100):
		return m.bad(fmt.Sprintf("year %d out of range", mo.Year), "month", "year")
	case mo.Year != 0 && mo.YearColumn != "":
		return m.bad("set either month.year or month.year_column, not both", "month")
	}
	return nil
}

// validateMetrics checks that every count maps to a COUNTER Metric_Type
// (counter.IsMetric: the one closed vocabulary).
func (m *Mapping) validateMetrics() error {
	if m.Month.Unpivot {
		if len(m.Metrics) > 0 {
			return m.bad("with month.unpivot every month cell counts one metric: use metric or metric_column, not metrics", "metrics")
		}
		if (m.Metric == "") == (m.MetricColumn == "") {
			return m.bad("with month.unpivot set exactly one of metric or metric_column", "metric")
		}
		if m.MetricColumn != "" && len(m.MetricTable) == 0 {
			return m.bad("metric_column needs metric_table: the vendor's names → COUNTER metrics", "metric_table")
		}
	} else {
		if len(m.Metrics) == 0 {
			return m.bad("want at least one {column, metric}", "metrics")
		}
		if m.Metric != "" || m.MetricColumn != "" {
			return m.bad("metric and metric_column are for month.unpivot; use metrics", "metric")
		}
		for i, ms := range m.Metrics {
			if ms.Column == "" {
				return m.bad(fmt.Sprintf("entry %d has no column", i+1), "metrics")
			}
			if !counter.IsMetric(ms.Metric) {
				return m.bad(fmt.Sprintf("entry %d: %q is not a COUNTER metric type", i+1, ms.Metric), "metrics")
			}
		}
	}
	if m.Metric != "" && !counter.IsMetric(m.Metric) {
		return m.bad(fmt.Sprintf("%q is not a COUNTER metric type", m.Metric), "metric")
	}
	for _, k := range sortedKeys(m.MetricTable) {
		if v := m.MetricTable[k]; !counter.IsMetric(v) {
			return m.bad(fmt.Sprintf("entry %q: %q is not a COUNTER metric type", k, v), "metric_table", k)
		}
	}
	m.MetricTable = foldKeys(m.MetricTable)
	return nil
}

// validateFields checks the usage fields filled from columns or constants.
func (m *Mapping) validateFields() error {
	for _, f := range sortedKeys(m.Columns) {
		if fieldSetters[f] == nil {
			return m.bad(fmt.Sprintf("unknown usage field %q; want one of %s", f, strings.Join(sortedKeys(fieldSetters), ", ")), "columns")
		}
		if m.Columns[f] == "" {
			return m.bad(fmt.Sprintf("field %q has no column", f), "columns")
		}
	}
	for _, f := range sortedKeys(m.Constants) {
		if fieldSetters[f] == nil {
			return m.bad(fmt.Sprintf("unknown usage field %q; want one of %s", f, strings.Join(sortedKeys(fieldSetters), ", ")), "constants")
		}
		if _, ok := m.Columns[f]; ok {
			return m.bad(fmt.Sprintf("field %q is both a column and a constant", f), "constants")
		}
	}
	return nil
}

// maxHeaderRow bounds how far down a header may be: a title block, not a sheet.
const maxHeaderRow = 1000

// line finds the line of the value at a dotted key path, or of the deepest
// key that exists, so an error points at the right place in the file.
func (m *Mapping) line(path ...string) int {
	if m.root == nil || len(m.root.Content) == 0 {
		return 0
	}
	n, line := m.root.Content[0], m.root.Content[0].Line
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

// fold normalises a header, name or table key for comparison: case and
// runs of spaces do not matter to the people who type them.
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func foldKeys(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[fold(k)] = v
	}
	return out
}

// sortedKeys lists m's keys in order.
func sortedKeys[K ~string, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }
