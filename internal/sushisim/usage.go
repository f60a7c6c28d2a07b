package sushisim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Library is a customer of every simulated platform.
type Library struct {
	ID           bibstat.LibraryID
	Name         string
	Municipality string // 2024 municipality number
	Population   int    // inhabitants served
}

// Platform is one simulated vendor platform.
type Platform struct {
	ID       string  // platform id, also the Platform value in reports
	Name     string  // display name
	DataType string  // COUNTER Data_Type of its content
	Scale    float64 // uses per 1,000 inhabitants per month, roughly
}

// Config describes the simulated world.
type Config struct {
	Seed        int64
	Platforms   []Platform
	Libraries   []Library
	First, Last bibstat.Month // the months that have usage
	// Faults make report requests misbehave; the first matching rule wins.
	Faults []Fault

	idx *index // built by Handler
}

// index speeds up lookups for large worlds.
type index struct {
	byCustomer map[string]*Library
	libraries  map[bibstat.LibraryID]*Library
	platforms  map[string]*Platform
}

// buildIndex indexes libraries and platforms; Handler calls it before serving.
func (c *Config) buildIndex() {
	if c.idx != nil {
		return
	}
	idx := &index{byCustomer: map[string]*Library{}, libraries: map[bibstat.LibraryID]*Library{}, platforms: map[string]*Platform{}}
	for i := range c.Libraries {
		l := &c.Libraries[i]
		idx.byCustomer[c.CustomerID(l.ID)] = l
		idx.libraries[l.ID] = l
	}
	for i := range c.Platforms {
		idx.platforms[c.Platforms[i].ID] = &c.Platforms[i]
	}
	c.idx = idx
}

// PRMetrics are the Metric_Types the simulator reports in PR, in report
// order; the Unique_Title ones for Book and Reference_Work platforms only.
var PRMetrics = append([]string{counter.SearchesPlatform}, counter.UsageMetrics...)

// Usage returns the PR counts of one library on one platform in one month,
// keyed by Metric_Type. It is zero outside [First, Last]. The numbers keep
// COUNTER's invariants, as the COUNTER Validator checks them: Unique ≤
// Total, Requests ≤ Investigations, titles ≤ items, and a metric that
// counts anything implies the ones it is part of (a request is of at least
// one unique item; a book's items are of at least one title).
func (c *Config) Usage(platform string, lib bibstat.LibraryID, m bibstat.Month) map[string]int64 {
	out := make(map[string]int64, len(PRMetrics))
	if m.Before(c.First) || c.Last.Before(m) {
		return out
	}
	var p *Platform
	var l *Library
	if c.idx != nil {
		p, l = c.idx.platforms[platform], c.idx.libraries[lib]
	} else {
		p, l = c.find(platform, lib)
	}
	if p == nil || l == nil {
		return out
	}
	// Seasonal: lower in July, higher in autumn and winter.
	season := 1 + 0.25*math.Cos(2*math.Pi*float64(int(m.Mon)-1)/12) - 0.3*boolf(m.Mon == 7)
	base := float64(l.Population) / 1000 * p.Scale * season * (0.7 + 0.6*c.noise(platform, lib, m, "base"))
	tir := int64(base)
	uir := int64(float64(tir) * (0.55 + 0.3*c.noise(platform, lib, m, "uir")))
	tii := tir + int64(float64(tir)*(0.2+0.6*c.noise(platform, lib, m, "tii")))
	uii := uir + int64(float64(tii-tir)*(0.5+0.4*c.noise(platform, lib, m, "uii")))
	uir, uii = atLeastOne(uir, tir), atLeastOne(uii, tii)
	out[counter.TotalItemRequests] = tir
	out[counter.UniqueItemRequests] = uir
	out[counter.TotalItemInvestigations] = tii
	out[counter.UniqueItemInvestigations] = uii
	if slices.Contains(counter.BookDataTypes, p.DataType) {
		uti := atLeastOne(int64(float64(uii)*(0.4+0.4*c.noise(platform, lib, m, "uti"))), uii)
		out[counter.UniqueTitleInvestigations] = uti
		out[counter.UniqueTitleRequests] = min(uti, atLeastOne(int64(float64(uir)*(0.4+0.4*c.noise(platform, lib, m, "utr"))), uir))
	}
	out[counter.SearchesPlatform] = int64(base * (0.3 + 0.4*c.noise(platform, lib, m, "search")))
	return out
}

func (c *Config) find(platform string, lib bibstat.LibraryID) (p *Platform, l *Library) {
	for i := range c.Platforms {
		if c.Platforms[i].ID == platform {
			p = &c.Platforms[i]
		}
	}
	for i := range c.Libraries {
		if c.Libraries[i].ID == lib {
			l = &c.Libraries[i]
		}
	}
	return p, l
}

// atLeastOne is n, or 1 when n rounded down to 0 of a whole that is not 0.
func atLeastOne(n, whole int64) int64 {
	if n == 0 && whole > 0 {
		return 1
	}
	return n
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// noise is a deterministic number in [0, 1) for its inputs.
func (c *Config) noise(platform string, lib bibstat.LibraryID, m bibstat.Month, what string) float64 {
	return float64(c.hash(platform, string(lib), m.String(), what)>>11) / (1 << 53)
}

// hash mixes the seed with parts, each ended by a NUL so that ("ab","c") and ("a","bc") differ.
func (c *Config) hash(parts ...string) uint64 {
	h := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(c.Seed))
	h.Write(seed[:])
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// CustomerID is the vendor's own customer id for a library, as vendors
// assign them (not the ISIL).
func (c *Config) CustomerID(lib bibstat.LibraryID) string { return "kunde-" + string(lib) }

// APIKey is the secret a library uses on a platform.
func (c *Config) APIKey(platform string, lib bibstat.LibraryID) string {
	return fmt.Sprintf("sk-%016x", c.hash("api_key", platform, string(lib)))
}
