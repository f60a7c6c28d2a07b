package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
)

// metrics is the server's own registry (no global state): request
// latency by route, and the ledger's units by state and last good harvest
// per platform, read from the ledger at scrape time.
type metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics(ledgerPath string) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bibstat_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern, method and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "code"})
	m.reg.MustRegister(m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if ledgerPath != "" {
		m.reg.MustRegister(&ledgerCollector{path: ledgerPath})
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument times every request under its mux pattern, never the raw
// path, so label cardinality stays bounded.
func (m *metrics) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		_, pattern := mux.Handler(r)
		mux.ServeHTTP(rec, r)
		if pattern == "" {
			pattern = "unmatched"
		}
		if pattern == "/" {
			pattern = "portal" // the portal's own mux routes below this
		}
		m.duration.WithLabelValues(pattern, methodLabel(r.Method), codeLabel(rec.status)).Observe(time.Since(start).Seconds())
	})
}

// methodLabel keeps the method label to a closed set: a client invents
// methods for free, and each would be a series that never goes away.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "other"
}

// codeLabel is the status code, or "other" outside 100–599.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ledgerCollector reads the ledger at scrape time (read-only, as "bibstat
// status" does), caching it for 30 s so frequent scrapes stay cheap.
type ledgerCollector struct {
	path string

	mu      sync.Mutex
	at      time.Time
	entries []ledger.Entry
	err     error
}

var (
	unitsDesc = prometheus.NewDesc("bibstat_ledger_units", "Harvest units by ledger state.", []string{"state"}, nil)
	lastGood  = prometheus.NewDesc("bibstat_last_good_harvest_timestamp_seconds",
		"When a unit of the platform was last harvested successfully (ok, zero or partial).", []string{"platform"}, nil)
	ledgerUp = prometheus.NewDesc("bibstat_ledger_readable", "1 if the ledger could be read at the last scrape.", nil, nil)
)

func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- unitsDesc
	ch <- lastGood
	ch <- ledgerUp
}

func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.at) > 30*time.Second {
		c.entries, c.err = ledger.ReadAll(c.path)
		c.at = time.Now()
	}
	entries, err := c.entries, c.err
	c.mu.Unlock()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(ledgerUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(ledgerUp, prometheus.GaugeValue, 1)
	// Every state is present, zero or not, so alerts can use absent() sensibly.
	totals := ledger.GridOf(entries, 0).Totals
	for _, s := range bibstat.States() {
		ch <- prometheus.MustNewConstMetric(unitsDesc, prometheus.GaugeValue, float64(totals[s]), string(s))
	}
	good := map[string]time.Time{}
	for _, e := range entries {
		if e.State.Loadable() && e.UpdatedAt.After(good[e.Platform]) {
			good[e.Platform] = e.UpdatedAt
		}
	}
	for p, t := range good {
		ch <- prometheus.MustNewConstMetric(lastGood, prometheus.GaugeValue, float64(t.Unix()), p)
	}
}
