package demo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

// Setup is where a demo run writes; the caller opens and closes each.
type Setup struct {
	Store     store.Store
	Ledger    *ledger.Ledger
	Warehouse *transform.Warehouse
	SiteDir   string
	Spacing   time.Duration // least time between two requests to one simulated vendor
	Lang      report.Lang
	Log       *slog.Logger
}

// Result is what a demo run did, for its summary and its test.
type Result struct {
	Harvest    ingest.Summary
	Load       transform.LoadSummary
	FactRows   int64
	Agreements int
	Pages      int
	IndexPath  string
}

// Run runs the whole pipeline on the simulated vendors: harvest into the
// store, the register and the archive into the warehouse, the example
// agreements, the report site. Running it again gives the same numbers.
func Run(ctx context.Context, s Setup) (Result, error) {
	var res Result
	world, err := sushisim.Demo()
	if err != nil {
		return res, err
	}
	bases, stop, err := ServeVendors(&world, nil)
	if err != nil {
		return res, err
	}
	defer stop()
	h := &ingest.Harvester{Store: s.Store, Ledger: s.Ledger, Log: s.Log, Spacing: s.Spacing,
		Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "BibStat demo"}}
	if res.Harvest, err = h.Run(ctx, Jobs(&world, bases)); err != nil {
		return res, fmt.Errorf("harvest: %w", err)
	}
	// The register lives in the store beside the raw archive, so that a
	// rebuild of the warehouse needs nothing but the store.
	if err := s.Store.Put(ctx, bibstat.LibrariesCSVKey, bytes.NewReader(Register(&world))); err != nil {
		return res, err
	}
	wh := s.Warehouse
	if res.Load, err = wh.Update(ctx, s.Store); err != nil {
		return res, err
	}
	if res.Agreements, err = ImportExampleAgreements(ctx, wh, s.Store); err != nil {
		return res, err
	}
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&res.FactRows); err != nil {
		return res, fmt.Errorf("count facts: %w", err)
	}
	site := &report.Site{DB: wh.DB, Out: s.SiteDir, Lang: s.Lang, Platforms: map[string]string{}, Harvests: []report.Harvest{}}
	for _, p := range world.Platforms {
		site.Platforms[p.ID] = p.Name
	}
	for _, e := range s.Ledger.All() {
		if m, err := bibstat.ParseMonth(e.Month); err == nil {
			site.Harvests = append(site.Harvests, report.Harvest{Platform: e.Platform, Library: string(e.Library), Month: m, State: e.State, At: e.UpdatedAt})
		}
	}
	sum, err := site.Build(ctx)
	if err != nil {
		return res, err
	}
	res.Pages, res.IndexPath = sum.Pages, sum.Index
	return res, nil
}
