package agreements

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Model is how an agreement's cost is split among its participants.
type Model string

// The allocation models.
const (
	ModelFlat           Model = "flat"            // equal per participant of the month
	ModelPopulation     Model = "population"      // by the participants' inhabitants
	ModelUsage          Model = "usage"           // by the participants' uses in the period
	ModelBasePopulation Model = "base_population" // base_share equally, the rest by inhabitants
)

var models = []Model{ModelFlat, ModelPopulation, ModelUsage, ModelBasePopulation}

// DataType says what kind of service an agreement buys; it picks the default use metrics.
type DataType string

// The data types and their default use metrics.
const (
	DataContent    DataType = "content"    // articles, entries, books: a use is an item requested
	DataDatabase   DataType = "database"   // search services: a search or an investigation
	DataMultimedia DataType = "multimedia" // film, music: every play counts
)

// DefaultMetrics are the COUNTER Metric_Types summed as uses, by data type.
var DefaultMetrics = map[DataType][]string{
	DataContent:    {counter.UniqueItemRequests},
	DataDatabase:   {counter.SearchesRegular, counter.UniqueItemInvestigations},
	DataMultimedia: {counter.TotalItemRequests},
}

// Agreement is one agreement of the registry, checked and typed.
type Agreement struct {
	ID, Name, Vendor string
	Platforms        []string
	DataType         DataType
	UseMetrics       []string // as written; empty means DefaultMetrics[DataType]
	From, To         bibstat.Month
	Price            *big.Rat // NOK as written in price_nok
	VATIncluded      bool
	VATRate          *big.Rat // e.g. 1/4 for 25 %; 0 for VAT-exempt services such as e-news
	Model            Model
	BaseShare        *big.Rat // base_population only: the share split equally
	Participants     []Participant
	Line             int // where the agreement begins in its file; 0 when read from the warehouse

	spec fileAgreement // as written: stored and compared on import
}

// Participant is a library or a county taking part in an agreement from
// Joined to Left, both months inclusive.
type Participant struct {
	Library      bibstat.LibraryID // set for a library
	County       string            // set for a county: two digits
	Joined, Left bibstat.Month
	Line         int
}

// Key names the participant: "library 2030100" or "county 40".
func (p Participant) Key() string {
	if p.County != "" {
		return "county " + p.County
	}
	return "library " + string(p.Library)
}

// ActiveIn reports whether the participant takes part in month m.
func (p Participant) ActiveIn(m bibstat.Month) bool { return !m.Before(p.Joined) && !p.Left.Before(m) }

// Metrics returns the Metric_Types that count as uses.
func (a Agreement) Metrics() []string {
	if len(a.UseMetrics) > 0 {
		return a.UseMetrics
	}
	return DefaultMetrics[a.DataType]
}

// Months is the number of months in the agreement period.
func (a Agreement) Months() int { return len(bibstat.MonthsBetween(a.From, a.To)) }

// PriceInclVAT is the price the participants pay, in NOK.
func (a Agreement) PriceInclVAT() *big.Rat {
	if a.VATIncluded {
		return new(big.Rat).Set(a.Price)
	}
	return new(big.Rat).Mul(a.Price, new(big.Rat).Add(big.NewRat(1, 1), a.VATRate))
}

// PriceExclVAT is the price before VAT, in NOK.
func (a Agreement) PriceExclVAT() *big.Rat {
	if !a.VATIncluded {
		return new(big.Rat).Set(a.Price)
	}
	return new(big.Rat).Quo(a.Price, new(big.Rat).Add(big.NewRat(1, 1), a.VATRate))
}

// Known is what the registry is checked against: the platforms, libraries
// and counties that exist. A nil map is not checked.
type Known struct {
	Platforms map[string]bool
	Libraries map[bibstat.LibraryID]bool
	Counties  map[string]bool // 2024 counties and the former 30, 38, 54
	// Municipalities is each library's municipality in the register, checked
	// against the structure of the months the library takes part in.
	Municipalities map[bibstat.LibraryID]string
}

func isKnownMetric(s string) bool { return counter.IsMetric(s) }

// A Unique_ metric counts a use once per session, a Total_ one every time:
// the same use is in both, so an agreement never adds one to the other.
var (
	uniqueMetrics = []string{counter.UniqueItemInvestigations, counter.UniqueItemRequests,
		counter.UniqueTitleInvestigations, counter.UniqueTitleRequests}
	totalMetrics = []string{counter.TotalItemInvestigations, counter.TotalItemRequests}
)

// ErrUniqueWithTotal: use_metrics adds a Unique_ metric to a Total_ one.
var ErrUniqueWithTotal = errors.New("a Unique_ metric cannot be added to a Total_ metric: each use would count twice")

// mixedMetrics returns a Total_ and a Unique_ metric of metrics when it
// has both.
func mixedMetrics(metrics []string) (total, unique string, mixed bool) {
	for _, u := range metrics {
		if !slices.Contains(uniqueMetrics, u) {
			continue
		}
		for _, t := range metrics {
			if slices.Contains(totalMetrics, t) {
				return t, u, true
			}
		}
	}
	return "", "", false
}

// checkMetrics refuses use metrics that count the same use twice, naming
// agreement id, the field and both metrics.
func checkMetrics(id string, metrics []string) error {
	if t, u, mixed := mixedMetrics(metrics); mixed {
		return fmt.Errorf("%s.use_metrics: %s + %s: %w", id, t, u, ErrUniqueWithTotal)
	}
	return nil
}
