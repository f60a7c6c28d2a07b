package sushisim

import (
	"fmt"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
)

// DemoSeed is the seed of the embedded demo world.
const DemoSeed = 2024

// demoLibraries are synthetic libraries in real municipalities. Their
// library numbers carry the municipality numbers of when they were
// assigned (Bergen's 1201, Tromsø's 1902), which is why a municipality is
// never derived from a library number.
var demoLibraries = []struct {
	id, name, municipality string
	population             int // 0: the municipality's population
}{
	{"2030100", "Oslo demobibliotek", "0301", 0},
	{"2120100", "Bergen demobibliotek", "4601", 0},
	{"2160100", "Trondheim demobibliotek", "5001", 0},
	{"2190200", "Tromsø demobibliotek", "5501", 0},
	{"2080600", "Skien demobibliotek", "4003", 0},
	{"3060201", "Drammen demo videregående skole", "3301", 1400},
}

// Demo returns the simulated world of "bibstat demo": six libraries, three
// platforms and the twelve months of 2025.
func Demo() (Config, error) {
	munis, err := reference.Municipalities()
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Seed: DemoSeed,
		Platforms: []Platform{
			{ID: "avisarkiv", Name: "Avisarkivet", DataType: "Newspaper_or_Newsletter", Scale: 40},
			{ID: "leksikon", Name: "Leksikon", DataType: "Reference_Work", Scale: 25},
			{ID: "filmtjeneste", Name: "Filmtjenesten", DataType: "Audiovisual", Scale: 8},
		},
		First: bibstat.Month{Year: 2025, Mon: 1},
		Last:  bibstat.Month{Year: 2025, Mon: 12},
	}
	for _, d := range demoLibraries {
		m, ok := munis[d.municipality]
		if !ok {
			return Config{}, fmt.Errorf("demo library %s: unknown municipality %s", d.id, d.municipality)
		}
		pop := d.population
		if pop == 0 {
			pop = m.Population
		}
		cfg.Libraries = append(cfg.Libraries, Library{ID: bibstat.LibraryID(d.id), Name: d.name, Municipality: d.municipality, Population: pop})
	}
	return cfg, nil
}
