package transform

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// maxRegister bounds a register file read from the store.
const maxRegister = 256 << 20

// ImportRegister replaces the register tables with the register files in
// src; a file that is absent leaves its table as it is. It reports whether
// anything was imported; the marts are refreshed by the next Load or Refresh.
func (w *Warehouse) ImportRegister(ctx context.Context, src Source) (bool, error) {
	keys, err := src.List(ctx, bibstat.RegisterPrefix)
	if err != nil {
		return false, fmt.Errorf("list register: %w", err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	read := func(key string, parse func(io.Reader) error) error {
		rc, err := src.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("read %s: %w", key, err)
		}
		defer rc.Close()
		if err := parse(io.LimitReader(rc, maxRegister)); err != nil {
			return fmt.Errorf("read %s: %w", key, err)
		}
		return nil
	}
	imported := false
	if key := bibstat.LibrariesXMLKey; have[key] || have[bibstat.LibrariesCSVKey] {
		parse := ReadLibrariesCSV
		if !have[key] {
			key = bibstat.LibrariesCSVKey
		} else {
			parse = ReadBaseBibliotek
		}
		var libs []Library
		if err := read(key, func(r io.Reader) error { libs, err = parse(r); return err }); err != nil {
			return false, err
		}
		if err := w.putLibraries(ctx, libs); err != nil {
			return false, err
		}
		imported = true
	}
	if have[bibstat.InstitutionsKey] {
		var maps []Mapping
		if err := read(bibstat.InstitutionsKey, func(r io.Reader) error { maps, err = ReadMappingsCSV(r); return err }); err != nil {
			return false, err
		}
		if err := w.putMappings(ctx, maps); err != nil {
			return false, err
		}
		imported = true
	}
	if have[bibstat.PoolsKey] {
		var pools []Pool
		if err := read(bibstat.PoolsKey, func(r io.Reader) error { pools, err = ReadPoolsCSV(r); return err }); err != nil {
			return false, err
		}
		if err := w.putPools(ctx, pools); err != nil {
			return false, err
		}
		imported = true
	}
	return imported, nil
}

// bbRecord is one <record> of a BaseBibliotek export. Only the fields the
// warehouse needs are read; contact fields are personal data and skipped.
type bbRecord struct {
	Bibnr      string `xml:"bibnr"`
	ISIL       string `xml:"isil"`
	Type       string `xml:"bibltype"`
	Kommnr     string `xml:"kommnr"`
	Overordnet string `xml:"overordnet"`
	Inst       string `xml:"inst"`
	Stengt     string `xml:"stengt"`
}

// ReadBaseBibliotek reads libraries from Nasjonalbiblioteket's BaseBibliotek
// XML export (namespace http://nb.no/BaseBibliotek, <record> elements with
// bibnr, isil, bibltype, kommnr, overordnet, inst, stengt). It streams, so
// the full national export (a few MB) is never held as a tree.
func ReadBaseBibliotek(r io.Reader) ([]Library, error) {
	dec := xml.NewDecoder(r)
	var out []Library
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("basebibliotek: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "record" {
			continue
		}
		var rec bbRecord
		if err := dec.DecodeElement(&rec, &se); err != nil {
			return nil, fmt.Errorf("basebibliotek: %w", err)
		}
		lib, err := newLibrary(rec.Bibnr, rec.ISIL, rec.Inst, rec.Type, rec.Kommnr, rec.Overordnet, rec.Stengt, "")
		if err != nil {
			return nil, fmt.Errorf("basebibliotek record %d: %w", len(out)+1, err)
		}
		out = append(out, lib)
	}
}

// ReadLibrariesCSV reads libraries from a CSV whose header names the
// columns: bibnr, isil, name (or inst), type (or bibltype), kommnr (or
// municipality), parent (or overordnet), closed (or stengt), population.
// bibnr and kommnr are required; the others may be missing.
func ReadLibrariesCSV(r io.Reader) ([]Library, error) {
	rows, err := readCSV(r, "bibnr", "kommnr")
	if err != nil {
		return nil, fmt.Errorf("libraries csv: %w", err)
	}
	out := make([]Library, 0, len(rows))
	for i, row := range rows {
		lib, err := newLibrary(row.get("bibnr"), row.get("isil"), row.get("name", "inst"), row.get("type", "bibltype"),
			row.get("kommnr", "municipality"), row.get("parent", "overordnet"), row.get("closed", "stengt"), row.get("population"))
		if err != nil {
			return nil, fmt.Errorf("libraries csv line %d: %w", i+2, err)
		}
		out = append(out, lib)
	}
	return out, nil
}

func newLibrary(bibnr, isil, name, typ, kommnr, parent, closed, population string) (Library, error) {
	id, err := bibstat.ParseLibraryID(bibnr)
	if err != nil {
		return Library{}, err
	}
	kommnr = strings.TrimSpace(kommnr)
	if len(kommnr) != 4 {
		return Library{}, fmt.Errorf("library %s: kommnr %q: want 4 digits", id, kommnr)
	}
	lib := Library{ID: id, ISIL: strings.TrimSpace(isil), Name: strings.TrimSpace(name),
		Type: strings.ToUpper(strings.TrimSpace(typ)), Municipality: kommnr, Closed: isClosed(closed)}
	if lib.ISIL == "" {
		lib.ISIL = id.ISIL()
	}
	if p := strings.TrimSpace(parent); p != "" {
		if lib.Parent, err = bibstat.ParseLibraryID(p); err != nil {
			return Library{}, fmt.Errorf("library %s: parent: %w", id, err)
		}
	}
	if p := strings.TrimSpace(population); p != "" {
		if _, err := fmt.Sscan(p, &lib.Population); err != nil {
			return Library{}, fmt.Errorf("library %s: population %q: %w", id, p, err)
		}
	}
	return lib, nil
}

// isClosed reads BaseBibliotek's stengt: absent or empty means open; a
// date, "J", "X", "true" or "1" means closed.
func isClosed(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "n", "nei", "no", "false", "0":
		return false
	}
	return true
}

// ReadMappingsCSV reads the institution mapping: platform ("*" for every
// platform), id_kind ("institution_id" or "customer_id"), id_value, and
// either library_id or pool_id.
func ReadMappingsCSV(r io.Reader) ([]Mapping, error) {
	rows, err := readCSV(r, "platform", "id_kind", "id_value")
	if err != nil {
		return nil, fmt.Errorf("institutions csv: %w", err)
	}
	out := make([]Mapping, 0, len(rows))
	for i, row := range rows {
		m := Mapping{Platform: row.get("platform"), Kind: row.get("id_kind"), Value: row.get("id_value"), Pool: row.get("pool_id")}
		if l := row.get("library_id"); l != "" {
			if m.Library, err = bibstat.ParseLibraryID(l); err != nil {
				return nil, fmt.Errorf("institutions csv line %d: %w", i+2, err)
			}
		}
		if (m.Library == "") == (m.Pool == "") {
			return nil, fmt.Errorf("institutions csv line %d: want exactly one of library_id and pool_id", i+2)
		}
		if m.Kind != "institution_id" && m.Kind != "customer_id" {
			return nil, fmt.Errorf("institutions csv line %d: id_kind %q: want institution_id or customer_id", i+2, m.Kind)
		}
		out = append(out, m)
	}
	return out, nil
}

// ReadPoolsCSV reads pools: pool_id, name, rule (population, equal,
// metric or logins; empty means population), metric_type (for metric and
// logins), members (bibnrs separated by spaces).
func ReadPoolsCSV(r io.Reader) ([]Pool, error) {
	rows, err := readCSV(r, "pool_id", "members")
	if err != nil {
		return nil, fmt.Errorf("pools csv: %w", err)
	}
	out := make([]Pool, 0, len(rows))
	for i, row := range rows {
		p := Pool{ID: row.get("pool_id"), Name: row.get("name"), Rule: row.get("rule"), Metric: row.get("metric_type")}
		switch p.Rule {
		case "":
			p.Rule = RulePopulation
		case RulePopulation, RuleEqual:
		case RuleMetric, RuleLogins:
			if p.Metric == "" {
				return nil, fmt.Errorf("pools csv line %d: rule %s needs metric_type", i+2, p.Rule)
			}
		default:
			return nil, fmt.Errorf("pools csv line %d: rule %q: want population, equal, metric or logins", i+2, p.Rule)
		}
		for _, f := range strings.Fields(row.get("members")) {
			id, err := bibstat.ParseLibraryID(f)
			if err != nil {
				return nil, fmt.Errorf("pools csv line %d: %w", i+2, err)
			}
			p.Members = append(p.Members, id)
		}
		out = append(out, p)
	}
	return out, nil
}

// csvRow is one CSV record keyed by its lower-cased header.
type csvRow map[string]string

// get returns the first of names that the row has, trimmed.
func (r csvRow) get(names ...string) string {
	for _, n := range names {
		if v, ok := r[n]; ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func readCSV(r io.Reader, required ...string) ([]csvRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("no header")
	}
	header := make([]string, len(recs[0]))
	have := map[string]bool{}
	for i, h := range recs[0] {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		have[header[i]] = true
	}
	for _, req := range required {
		if !have[req] {
			return nil, fmt.Errorf("no %q column in header %v", req, header)
		}
	}
	out := make([]csvRow, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := csvRow{}
		for i, v := range rec {
			if i < len(header) {
				row[header[i]] = v
			}
		}
		out = append(out, row)
	}
	return out, nil
}
