package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/transform"
)

// ServeVendors starts one loopback server per simulated platform, so that
// each is its own host as real vendors are, and returns their base URLs.
// wrap, when not nil, wraps each platform's handler (benches record
// request arrivals with it).
func ServeVendors(world *sushisim.Config, wrap func(platform string, h http.Handler) http.Handler) (map[string]string, func(), error) {
	return ServeVendorsOn(world, wrap, func(string, net.Listener) net.Listener { return nil })
}

// ServeVendorsOn is ServeVendors with each platform's listener replaced by
// listen's answer when not nil (the harvest bench stamps arrivals on it).
func ServeVendorsOn(world *sushisim.Config, wrap func(platform string, h http.Handler) http.Handler, listen func(platform string, ln net.Listener) net.Listener) (map[string]string, func(), error) {
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
		if l := listen(p.ID, ln); l != nil {
			ln = l
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

// Jobs lists the PR unit of every platform, library and month of world,
// platform by platform, against the vendors at bases.
func Jobs(world *sushisim.Config, bases map[string]string) []ingest.Job {
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
	return jobs
}

// ImportExampleAgreements imports the embedded example registry as
// "bibstat agreements import" does: stored in st, then applied, so the
// demo's site values agreements as the consortium's would and a rebuilt
// warehouse gets them back.
func ImportExampleAgreements(ctx context.Context, wh *transform.Warehouse, st store.Store) (int, error) {
	aw := &agreements.Warehouse{DB: wh.DB}
	if _, err := aw.Restore(ctx, st); err != nil {
		return 0, err
	}
	known, err := aw.Known(ctx)
	if err != nil {
		return 0, err
	}
	list, err := agreements.Parse("agreements/example.yaml", bytes.NewReader(agreements.Example), known)
	if err != nil {
		return 0, err
	}
	if _, _, err := aw.Record(ctx, st, list, agreements.Example, "agreements/example.yaml", "demo", time.Now()); err != nil {
		return 0, err
	}
	return len(list), nil
}

// Register writes the simulated libraries as a library register CSV.
func Register(world *sushisim.Config) []byte {
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
