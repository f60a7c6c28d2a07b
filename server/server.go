package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is what a Server needs; New fills the optional parts.
type Config struct {
	DB         *sql.DB // the warehouse, read only by the server
	SiteDir    string  // the report site (report.Site.Out)
	Users      *Users
	LedgerPath string  // the harvest ledger, for /metrics and /admin
	RunLog     *RunLog // may be nil: no run log
	Addr       string  // e.g. ":8080"
	// BaseURL is the public URL of the server, shown to library users as
	// their SUSHI endpoint; empty shows the request's host.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
	// Geo overrides the warehouse's library register (tests).
	Geo Geo
	// TrustedProxies are the reverse proxies whose Forwarded and
	// X-Forwarded-For headers name the client; no one else's are read.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, lets a request with "Authorization: Bearer
	// <token>" read /metrics; an admin session always may.
	MetricsToken string
	// MetricsAddr, when set, is a second listen address (for the internal
	// network) that serves /metrics to anyone who reaches it.
	MetricsAddr string
	// Sessions is the session file; "" means sessions.json beside the
	// users file.
	Sessions string
	// HashSlots caps the password and token checks (argon2id, 19 MiB
	// each) running at once; more get 429 at once. 0 means 2.
	HashSlots int
	// Access takes staff's requests for an account (requests.go); nil: none.
	Access *Access
	// Lang is the explorer's language unless a page asks for another: nb
	// (when ""), nn or en.
	Lang string
	// Platforms names the platforms (config id → display name) for the explorer.
	Platforms map[string]string
}

// Server is the portal, the SUSHI server and the operations endpoints.
type Server struct {
	cfg      Config
	log      *slog.Logger
	geo      Geo
	sessions *Sessions
	throttle *Throttle
	hashing  chan struct{} // one token per argon2id check in progress
	metrics  *metrics
	handler  http.Handler
}

// New builds a server from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Users == nil || cfg.SiteDir == "" {
		return nil, errors.New("new server: DB, Users and SiteDir are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sessions == "" {
		cfg.Sessions = filepath.Join(filepath.Dir(cfg.Users.Path()), "sessions.json")
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = 2
	}
	sessions, err := OpenSessions(cfg.Sessions, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Log, geo: cfg.Geo, sessions: sessions, throttle: NewThrottle(),
		hashing: make(chan struct{}, cfg.HashSlots)}
	if s.geo == nil {
		s.geo = newDBGeo(cfg.DB)
	}
	s.throttle.Now = cfg.Now
	s.metrics = newMetrics(cfg.LedgerPath)
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry is the server's Prometheus registry (also served at /metrics).
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.metricsEndpoint)
	// SUSHI: credentials in the query, no cookies, so no CSRF concerns.
	s.sushiRoutes(mux)
	// Portal: cookies, so cross-origin unsafe requests are refused.
	portal := http.NewServeMux()
	portal.HandleFunc("GET /login", s.loginForm)
	portal.HandleFunc("POST /login", s.login)
	portal.HandleFunc("POST /logout", s.logout)
	portal.HandleFunc("GET /admin", s.admin)
	s.requestRoutes(portal)
	s.exploreRoutes(portal)
	portal.HandleFunc("GET /{$}", s.index)
	portal.HandleFunc("GET /", s.siteFile)
	cop := http.NewCrossOriginProtection()
	mux.Handle("/", cop.Handler(securityHeaders(portal)))
	return s.metrics.instrument(mux)
}

// securityHeaders sets headers every portal page should carry.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("Cache-Control", "private, no-store")
		h.ServeHTTP(w, r)
	})
}

// health is what /healthz answers: ok or not, why not, and the stages of
// the last nightly run (without their details, which are for /admin).
type health struct {
	Status   string      `json:"status"` // ok or failing
	Problems []string    `json:"problems,omitempty"`
	LastRun  []healthRun `json:"last_run"`
}

type healthRun struct {
	Stage   string    `json:"stage"`
	Outcome string    `json:"outcome"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// healthz answers 503 when the warehouse does not answer, the site has no
// pages, or the last nightly run failed a stage: a monitor must see a
// night that did nothing, not a server that merely runs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h := health{Status: "ok", LastRun: []healthRun{}}
	if err := s.cfg.DB.PingContext(ctx); err != nil {
		s.log.Error("healthz: warehouse unreachable", "error", err)
		h.Problems = append(h.Problems, "warehouse unreachable")
	}
	if _, err := os.Stat(filepath.Join(s.cfg.SiteDir, "index.html")); err != nil {
		h.Problems = append(h.Problems, "the report site has no pages")
	}
	if s.cfg.RunLog != nil {
		runs, err := s.cfg.RunLog.LastNight()
		if err != nil {
			s.log.Error("healthz: run log unreadable", "error", err)
			h.Problems = append(h.Problems, "run log unreadable")
		}
		for _, run := range runs {
			h.LastRun = append(h.LastRun, healthRun{Stage: run.Kind, Outcome: run.Outcome, Start: run.Start, End: run.End})
			if run.Outcome == "failed" {
				h.Problems = append(h.Problems, "the last run's "+run.Kind+" stage failed")
			}
		}
	}
	code := http.StatusOK
	if len(h.Problems) > 0 {
		h.Status, code = "failing", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// hashSlot takes one of the argon2id slots, or says none is free.
func (s *Server) hashSlot() (release func(), ok bool) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, true
	default:
		return nil, false
	}
}

// metricsEndpoint serves /metrics to an admin session or the configured
// bearer token; the label values come from closed sets, but the ledger's
// platforms and states are the consortium's business.
func (s *Server) metricsEndpoint(w http.ResponseWriter, r *http.Request) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.cfg.MetricsToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) == 1 {
		s.metrics.handler().ServeHTTP(w, r)
		return
	}
	if u, _, ok := s.currentUser(r); ok && u.Role == RoleAdmin {
		s.metrics.handler().ServeHTTP(w, r)
		return
	}
	s.log.Info("denied", "path", "/metrics", "ip", s.clientIP(r))
	http.Error(w, "an admin session or the metrics token is required", http.StatusForbidden)
}

// MetricsHandler is what MetricsAddr serves: /metrics to anyone.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

// Run serves on cfg.Addr (and /metrics on cfg.MetricsAddr, when set) until
// ctx ends, then shuts down gracefully: no new connections, in-flight
// requests get up to 10 s to finish.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.MetricsAddr == "" {
		return s.Serve(ctx, ln)
	}
	mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen %s: %w", s.cfg.MetricsAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	merr := make(chan error, 1)
	go func() {
		merr <- serve(ctx, s.log, mln, s.MetricsHandler())
		cancel() // the metrics listener failing stops the whole server: it is watched
	}()
	err = s.Serve(ctx, ln)
	cancel()
	if mErr := <-merr; err == nil {
		err = mErr
	}
	return err
}

// Serve is Run on a listener the caller opened, without MetricsAddr.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, s.log, ln, s.handler)
}

func serve(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // large downloads and big reports
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
