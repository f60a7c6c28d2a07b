package reference

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
)

//go:embed data/*.csv
var files embed.FS

// Municipality is a kommune of the 2024 structure.
type Municipality struct {
	Number     string // 4 digits, e.g. "0301"
	Name       string
	County     string // 2 digits, e.g. "03"
	CountyName string
	Population int
}

// Municipalities returns the 357 municipalities of the 2024 structure, by number.
func Municipalities() (map[string]Municipality, error) {
	rows, err := readCSV("data/no_kommuner_2024_folketall_2025.csv")
	if err != nil {
		return nil, err
	}
	out := make(map[string]Municipality, len(rows))
	for i, r := range rows {
		pop, err := strconv.Atoi(r["folketall"])
		if err != nil {
			return nil, fmt.Errorf("municipalities line %d: folketall %q: %w", i+2, r["folketall"], err)
		}
		out[r["kommunenummer"]] = Municipality{Number: r["kommunenummer"], Name: r["kommunenavn"],
			County: r["fylkesnummer"], CountyName: r["fylkesnavn"], Population: pop}
	}
	return out, nil
}

// readCSV reads an embedded CSV file into one map per row, keyed by header.
func readCSV(name string) ([]map[string]string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("reference %s: empty", name)
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out, nil
}

// Successor is one edge of the 2023→2024 renumbering: the municipality valid
// on 2023-12-31 and one municipality of 2024 that took over (part of) it.
type Successor struct {
	From, FromName, FromCounty, FromCountyName string // the 2020–2023 structure
	To                                         string // the 2024 structure
	Change                                     string // "unchanged", "renumbered" or "split"
}

// Successors returns the 2023→2024 mapping: one row per municipality of the
// 2020–2023 structure and successor; Ålesund (1507) has two rows, the split.
// No municipality changed between 1 January 2020 and 31 December 2023 (SSB
// Klass via bord4 regions_history), so it also maps every code of 2020–2022.
func Successors() ([]Successor, error) {
	rows, err := readCSV("data/no_kommune_2023_til_2024.csv")
	if err != nil {
		return nil, err
	}
	out := make([]Successor, 0, len(rows))
	for _, r := range rows {
		out = append(out, Successor{From: r["kommunenummer_2023"], FromName: r["kommunenavn_2023"],
			FromCounty: r["fylkesnummer_2023"], FromCountyName: r["fylkesnavn_2023"],
			To: r["kommunenummer_2024"], Change: r["endring"]})
	}
	return out, nil
}

// Population is the number of inhabitants of a municipality (2024 structure) in a year.
type Population struct {
	Municipality string
	Year         int
	Population   int
	Source       string
}

// PopulationYears returns every population figure embedded: today only 2025
// (data/SOURCES.md). Callers pick the latest year at or before the one they
// need, else the earliest.
func PopulationYears() ([]Population, error) {
	rows, err := readCSV("data/no_kommuner_2024_folketall_2025.csv")
	if err != nil {
		return nil, err
	}
	out := make([]Population, 0, len(rows))
	for i, r := range rows {
		pop, err := strconv.Atoi(r["folketall"])
		if err != nil {
			return nil, fmt.Errorf("population line %d: folketall %q: %w", i+2, r["folketall"], err)
		}
		out = append(out, Population{Municipality: r["kommunenummer"], Year: 2025, Population: pop, Source: r["folketall_kilde"]})
	}
	return out, nil
}
