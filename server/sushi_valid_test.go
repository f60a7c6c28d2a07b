package server

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The COUNTER API 5.1 documents: as published with the CoP (5.1), and its
// newest revision (5.1.0.1), which fixes the ISIL pattern and spells the
// Granularity value "Totals" as the CoP's text and the Validator do.
var counterSchemas = []struct{ name, path string }{
	{"5.1", "../../shared/counter-schemas/Project-Counter__cop5__COUNTER_SUSHI_API.json"},
	{"5.1.0.1", "../../shared/counter-schemas/folio-org__mod-erm-usage-counter__COUNTER_API.json"},
}

// schemaSet compiles each schema's components on demand. Each version is
// there as published and, under its name with "+patch", with every
// Performance's minProperties set to 1: the published documents demand two
// metrics of TR, DR, PR and TR_B1/TR_B2 performances, which rejects a book
// whose only use in the period is one Limit_Exceeded (ezMESURE patches it
// the same way, "should be fixed by R5.1.1").
type schemaSet struct {
	t  *testing.T
	cs map[string]*jsonschema.Compiler
}

// patchMinProperties relaxes the Performance components of a schema
// document (decoded JSON) in place.
func patchMinProperties(doc any) {
	comps, _ := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
	for name, c := range comps {
		m, ok := c.(map[string]any)
		if !ok || !strings.Contains(name, "Performance") || strings.Contains(name, "Attribute_Performance") {
			continue
		}
		if _, has := m["minProperties"]; has {
			m["minProperties"] = json.Number("1")
		}
	}
}

func newSchemaSet(t *testing.T) *schemaSet {
	t.Helper()
	s := &schemaSet{t: t, cs: map[string]*jsonschema.Compiler{}}
	for _, sc := range counterSchemas {
		raw, err := os.ReadFile(sc.path)
		if err != nil {
			t.Skipf("COUNTER schema not available: %v", err)
		}
		for _, name := range []string{sc.name, sc.name + "+patch"} {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, "+patch") {
				patchMinProperties(doc)
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft2020)
			if err := c.AddResource(name+".json", doc); err != nil {
				t.Fatal(err)
			}
			s.cs[name] = c
		}
	}
	return s
}

func (s *schemaSet) compile(version, ref string) *jsonschema.Schema {
	s.t.Helper()
	sch, err := s.cs[version].Compile(version + ".json#/components/schemas/" + ref)
	if err != nil {
		s.t.Fatalf("compile %s %s: %v", version, ref, err)
	}
	return sch
}

// validate checks one response body against a component of one schema
// version; an array answer is checked element by element.
func (s *schemaSet) validate(version, ref string, array bool, body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	sch := s.compile(version, ref)
	if !array {
		return sch.Validate(v)
	}
	arr, _ := v.([]any)
	for _, el := range arr {
		if err := sch.Validate(el); err != nil {
			return err
		}
	}
	return nil
}

// endpointCase is one request to the SUSHI server and the schema component
// its answer must validate against.
type endpointCase struct {
	path, schema string
	q            url.Values
	array        bool
}

// worldCases are every endpoint, every report and view, for every library
// of the world, plain and with each option a client may send.
func worldCases(f *sushiFixture) []endpointCase {
	var cases []endpointCase
	add := func(path, schema string, q url.Values, array bool) {
		cases = append(cases, endpointCase{path, schema, q, array})
	}
	add("/r51/status", "Status", url.Values{}, true)
	add("/r51/members", "Member", url.Values{"customer_id": {ConsortiumCustomerID}, "api_key": {f.tokens["admin"]}}, true)
	for _, li := range f.libs {
		base := url.Values{"customer_id": {li.ID.ISIL()}, "requestor_id": {"admin"}, "api_key": {f.tokens["admin"]},
			"begin_date": {"2024-11"}, "end_date": {"2025-03"}}
		with := func(kv ...string) url.Values {
			v := url.Values{}
			for k, x := range base {
				v[k] = x
			}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		add("/r51/members", "Member", with(), true)
		add("/r51/reports", "Report", with(), true)
		for _, sp := range specs {
			path := "/r51/reports/" + lower(sp.ID)
			add(path, sp.ID, with(), false)
			add(path, sp.ID, with("begin_date", "2025-02", "end_date", "2025-06"), false) // 3031
			add(path, sp.ID, with("begin_date", "2019-01", "end_date", "2019-02"), false) // 3030
			add(path, sp.ID, with("platform", "nyheter"), false)
			if sp.view() {
				continue
			}
			add(path, sp.ID, with("attributes_to_show", joinPipe(sp.Attrs)), false)
			add(path, sp.ID, with("granularity", "Totals"), false)
			add(path, sp.ID, with("granularity", "Totals", "attributes_to_show", joinPipe(sp.Attrs)), false)
			add(path, sp.ID, with("access_method", "TDM"), false)
			if sp.Master == "IR" {
				add(path, sp.ID, with("include_parent_details", "True"), false)
				add(path, sp.ID, with("include_parent_details", "True", "attributes_to_show", joinPipe(sp.Attrs)), false)
				add(path, sp.ID, with("include_component_details", "True"), false)
			}
		}
	}
	return cases
}

func joinPipe(v []string) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += "|"
		}
		s += x
	}
	return s
}

// TestSushiWorldSchema validates every endpoint's answer on the mixed R5
// and R5.1 world against both COUNTER API 5.1 documents.
func TestSushiWorldSchema(t *testing.T) {
	ss := newSchemaSet(t)
	// The validator must be able to say no.
	if ss.validate("5.1", "PR", false, []byte(`{"Report_Header":{"Release":"5"},"Report_Items":[]}`)) == nil {
		t.Fatal("an invalid PR validated")
	}
	f := newSushiFixtureOn(t, worldWarehouse)
	failed := map[string]int{}
	cases := worldCases(f)
	for _, tc := range cases {
		status, body := f.get(t, tc.path, tc.q)
		if status != 200 {
			t.Errorf("%s %s: status %d: %s", tc.path, redacted(tc.q), status, body)
			continue
		}
		for _, sc := range counterSchemas {
			// 5.1 as published spells the Granularity value "Total", its
			// revision and the CoP's text "Totals": only the revision
			// judges a Totals answer.
			if sc.name == "5.1" && tc.q.Get("granularity") != "" {
				continue
			}
			if err := ss.validate(sc.name, tc.schema, tc.array, body); err == nil {
				continue
			}
			failed[sc.name]++
			if err := ss.validate(sc.name+"+patch", tc.schema, tc.array, body); err != nil {
				failed[sc.name+"+patch"]++
				t.Errorf("%s %s against %s: %#v\n%.800s", tc.path, redacted(tc.q), sc.name, err, body)
			}
		}
	}
	t.Logf("%d responses validated: %d fail COUNTER API 5.1 (%d with one-metric Performances allowed), %d fail 5.1.0.1 (%d)",
		len(cases), failed["5.1"], failed["5.1+patch"], failed["5.1.0.1"], failed["5.1.0.1+patch"])
}

// redacted is a query without its api_key, for the test log.
func redacted(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k != "api_key" {
			c[k] = v
		}
	}
	return c.Encode()
}
