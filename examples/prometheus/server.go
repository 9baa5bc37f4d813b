package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// reportsPolicy is the route limit of GET /v1/reports, per key pair.
var reportsPolicy = ratelimit.Policy{Rate: 2, Burst: 2}

// config is what newServer builds from.
type config struct {
	// Registry receives faultline's metrics, and /metrics serves it; nil
	// means a registry of its own.
	Registry *prometheus.Registry
	// Keys are the accepted key pairs, sandbox keys by default.
	Keys []middleware.KeyPair
	// Store holds the rate-limit buckets; nil means a MemoryStore.
	Store ratelimit.Store
	// Logger receives the error records; nil means slog.Default().
	Logger *slog.Logger
	// Now is the limiter's clock, for its breaker; nil means time.Now.
	Now func() time.Time
}

// defaultKeys are the example's key pairs, for trying it out only.
var defaultKeys = []middleware.KeyPair{{Key: "demo-key", Secret: "demo-secret", Environment: "sandbox"}}

// server is the example's handler; Close releases the limiter.
type server struct {
	http.Handler
	limiter *ratelimit.Limiter
}

// Close stops the limiter's background work.
func (s *server) Close() error { return s.limiter.Close() }

// newServer builds the routes: GET /metrics, open to the scraper, and
// under /v1 an API behind KeyAuth and the rate limiter, with a route
// limit on /v1/reports. Every error, from any of them, goes through one
// renderer whose observer counts it, and every rate-limit decision through
// the limiter's observer.
func newServer(cfg config) (*server, error) {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	observeError, observeDecision, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	rd, err := problem.NewRenderer(problem.Config{Logger: cfg.Logger, Observer: observeError})
	if err != nil {
		return nil, err
	}
	keys := cfg.Keys
	if keys == nil {
		keys = defaultKeys
	}
	authn, err := middleware.NewStaticKeys(keys...)
	if err != nil {
		return nil, err
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Store: cfg.Store, Logger: cfg.Logger, Observer: observeDecision, Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	reports, err := lim.NewRoute("reports", reportsPolicy)
	if err != nil {
		lim.Close()
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(middleware.Stack(rd))
	r.NotFound(middleware.NotFound)
	r.MethodNotAllowed(middleware.MethodNotAllowed)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{
		EnableOpenMetrics: true, // exemplars are only in the OpenMetrics format
	}))
	r.Route("/v1", func(r chi.Router) {
		r.Use(middleware.KeyAuth(authn), lim.Handler)
		r.Get("/accounts/{id}", middleware.Handle(getAccount))
		r.With(reports).Get("/reports", getReports)
	})
	return &server{Handler: r, limiter: lim}, nil
}

// getAccount knows one account, acc_1.
func getAccount(w http.ResponseWriter, r *http.Request) error {
	if chi.URLParam(r, "id") != "acc_1" {
		return problem.New(catalog.NotFound, "Account not found.")
	}
	writeJSON(w, map[string]string{"id": "acc_1", "currency": "USD", "balance": "1000.00"})
	return nil
}

// getReports lists the caller's reports.
func getReports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"reports": []string{"daily-pnl", "positions"}})
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v) // a failed write is the client gone
}
