package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

func demoCommand() command {
	return command{name: "demo", summary: "run the whole pipeline offline on simulated vendors",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "demo", "", "Runs the whole pipeline offline: simulated SUSHI vendors on loopback, a local\n"+
				"object store, a DuckDB warehouse and the report site, all under --out.\nRunning it again is safe and gives the same numbers.")
			out := fs.String("out", "bibstat-demo", "the `dir`ectory to write into")
			spacing := fs.Duration("spacing", 10*time.Millisecond, "least `time` between two requests to one simulated vendor")
			lang := fs.String("lang", "nb", "report `lang`uage: nb, nn or en")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("demo takes no arguments, got %q", fs.Args())}
			}
			return runDemo(ctx, e, demoOptions{Out: *out, Spacing: *spacing, Lang: report.Lang(*lang)})
		}}
}

type demoOptions struct {
	Out     string
	Spacing time.Duration
	Lang    report.Lang
}

// demoResult is what the demo did, for its summary and its test.
type demoResult struct {
	Harvest    ingest.Summary
	Load       transform.LoadSummary
	FactRows   int64
	Agreements int
	Pages      int
	IndexPath  string
}

func runDemo(ctx context.Context, e *env, o demoOptions) error {
	res, err := demo(ctx, e, o)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "harvested units: %d (%d fetched now, %d already in the archive)%s\n",
		res.Harvest.Jobs, res.Harvest.Fetched, res.Harvest.Skipped, formatStates(res.Harvest.States))
	fmt.Fprintf(w, "rows in warehouse: %d (%d units, %d loaded now)\n", res.FactRows, res.Load.Units, res.Load.Loaded)
	fmt.Fprintf(w, "agreements valued: %d\n", res.Agreements)
	fmt.Fprintf(w, "pages written: %d\n", res.Pages)
	fmt.Fprintf(w, "open: %s\n", res.IndexPath)
	return nil
}

func formatStates(states map[bibstat.State]int) string {
	if len(states) == 0 {
		return ""
	}
	var parts []string
	for s, n := range states {
		parts = append(parts, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, " ")
}

// demo runs simulator → harvest → archive → warehouse → report under o.Out.
func demo(ctx context.Context, e *env, o demoOptions) (demoResult, error) {
	var res demoResult
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return res, err
	}
	world, err := sushisim.Demo()
	if err != nil {
		return res, err
	}
	bases, stop, err := serveSimulator(&world, nil)
	if err != nil {
		return res, err
	}
	defer stop()

	st, err := openLocal(ctx, filepath.Join(out, "archive"))
	if err != nil {
		return res, err
	}
	led, err := ledger.Open(filepath.Join(out, "ledger.jsonl"))
	if err != nil {
		return res, err
	}
	defer led.Close()

	var jobs []ingest.Job
	for _, p := range world.Platforms {
		for _, lib := range world.Libraries {
			cred := sushi.Credential{ID: string(lib.ID), Platform: p.ID, Library: lib.ID, BaseURL: bases[p.ID], Release: "5.1",
				CustomerID: world.CustomerID(lib.ID), APIKey: world.APIKey(p.ID, lib.ID)}
			for _, m := range bibstat.MonthsBetween(world.First, world.Last) {
				jobs = append(jobs, ingest.Job{Unit: bibstat.Unit{Platform: p.ID, Credential: cred.ID, Report: "pr", Month: m}, Cred: cred})
			}
		}
	}
	h := &ingest.Harvester{Store: st, Ledger: led, Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "BibStat demo"},
		Log: e.log, Spacing: o.Spacing}
	if res.Harvest, err = h.Run(ctx, jobs); err != nil {
		return res, fmt.Errorf("harvest: %w", err)
	}

	wh, err := transform.Open(ctx, filepath.Join(out, "warehouse.duckdb"), transform.Options{}, e.log)
	if err != nil {
		return res, err
	}
	defer wh.Close()
	// The register lives in the store beside the raw archive, so that a
	// rebuild of the warehouse needs nothing but the store.
	if err := st.Put(ctx, transform.LibrariesCSVKey, bytes.NewReader(demoRegister(&world))); err != nil {
		return res, err
	}
	if res.Load, err = wh.Update(ctx, st); err != nil {
		return res, err
	}
	if res.Agreements, err = importExampleAgreements(ctx, wh); err != nil {
		return res, err
	}
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&res.FactRows); err != nil {
		return res, fmt.Errorf("count facts: %w", err)
	}

	site := &report.Site{DB: wh.DB, Out: filepath.Join(out, "site"), Lang: o.Lang}
	sum, err := site.Build(ctx)
	if err != nil {
		return res, err
	}
	res.Pages, res.IndexPath = sum.Pages, sum.Index
	return res, nil
}

// serveSimulator starts one loopback server per simulated platform, so that
// each is its own host as real vendors are, and returns their base URLs.
// wrap, when not nil, wraps each platform's handler (benches record
// request arrivals with it).
func serveSimulator(world *sushisim.Config, wrap func(platform string, h http.Handler) http.Handler) (map[string]string, func(), error) {
	bases := map[string]string{}
	var servers []*http.Server
	var once sync.Once
	stop := func() {
		once.Do(func() {
			for _, s := range servers {
				s.Close()
			}
		})
	}
	for _, p := range world.Platforms {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("start simulator: %w", err)
		}
		h := world.Handler(p.ID)
		if wrap != nil {
			h = wrap(p.ID, h)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				_ = err // the harvest sees the failure as transport errors
			}
		}()
		bases[p.ID] = "http://" + ln.Addr().String()
	}
	return bases, stop, nil
}

// importExampleAgreements imports the embedded example registry, so the
// demo's site values agreements as the consortium's would.
func importExampleAgreements(ctx context.Context, wh *transform.Warehouse) (int, error) {
	aw := &agreements.Warehouse{DB: wh.DB}
	known, err := aw.Known(ctx)
	if err != nil {
		return 0, err
	}
	list, err := agreements.Parse("agreements/example.yaml", bytes.NewReader(agreements.Example), known)
	if err != nil {
		return 0, err
	}
	if _, err := aw.Import(ctx, list, "agreements/example.yaml", time.Now()); err != nil {
		return 0, err
	}
	return len(list), nil
}

// demoRegister writes the simulated libraries as a library register CSV.
func demoRegister(world *sushisim.Config) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"bibnr", "isil", "name", "type", "kommnr", "parent", "closed", "population"})
	for _, l := range world.Libraries {
		typ, pop := "FBI", ""
		if strings.HasPrefix(string(l.ID), "3") { // upper-secondary school: serves its pupils, not the municipality
			typ, pop = "VGS", fmt.Sprint(l.Population)
		}
		w.Write([]string{string(l.ID), l.ID.ISIL(), l.Name, typ, l.Municipality, "", "", pop})
	}
	w.Flush()
	return b.Bytes()
}
