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
