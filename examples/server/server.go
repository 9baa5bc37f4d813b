package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/catalog/reference"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
	"github.com/faultline-go/faultline/ratelimit"
)

// DuplicateOrder is the demo's own code: a client_order_id used twice.
const DuplicateOrder = "DUPLICATE_ORDER"

const (
	maxQuantity = 1_000_000
	slowTimeout = 100 * time.Millisecond
	maxSlowMS   = 10_000
)

// Default key pairs of the demo; -keys replaces them.
var defaultKeys = []keyPair{{"demo-key", "demo-secret"}, {"demo-key-2", "demo-secret-2"}}

type keyPair struct{ key, secret string }

type serverConfig struct {
	Problem     problem.Config
	Maintenance bool
	// Keys are the accepted key pairs; nil means defaultKeys.
	Keys []keyPair
	// Env picks the default rate limit policy (sandbox when empty).
	Env ratelimit.Environment
	// Rate, when positive, replaces the policy's rate and burst.
	Rate int
	// Store holds the rate limit buckets; nil means memory.
	Store ratelimit.Store
	// Outage is the limiter's behaviour when Store fails.
	Outage ratelimit.Outage
}

// server is the demo's handler; Close releases the limiter.
type server struct {
	http.Handler
	limiter *ratelimit.Limiter
}

// Close stops the limiter's background work.
func (s *server) Close() error { return s.limiter.Close() }

// reportsPolicy is the route limit of GET /v1/reports, per key pair.
var reportsPolicy = ratelimit.Policy{Rate: 2, Burst: 2}

// newServer builds the demo's routes on a chi router.
func newServer(cfg serverConfig) (*server, error) {
	cat, err := catalog.New(cfg.Problem.Prefix, catalog.Code{
		Name:       DuplicateOrder,
		Status:     http.StatusConflict,
		Flat:       orDefault(cfg.Problem.Prefix, catalog.DefaultPrefix) + "-409-002",
		Message:    "An order with this client_order_id already exists.",
		Resolution: "Use a new client_order_id for a new order; the existing order stands.",
	})
	if err != nil {
		return nil, err
	}
	cfg.Problem.Catalog = cat
	rd, err := problem.NewRenderer(cfg.Problem)
	if err != nil {
		return nil, err
	}

	keys := cfg.Keys
	if keys == nil {
		keys = defaultKeys
	}
	env := cfg.Env
	if env == "" {
		env = ratelimit.EnvSandbox
	}
	policy, err := ratelimit.PolicyFor(env)
	if err != nil {
		return nil, err
	}
	if cfg.Rate > 0 {
		policy.Rate, policy.Burst = rate.Limit(cfg.Rate), cfg.Rate
	}
	pairs := make([]middleware.KeyPair, len(keys))
	for i, k := range keys {
		pairs[i] = middleware.KeyPair{Key: k.key, Secret: k.secret, Environment: string(env)}
	}
	authn, err := middleware.NewStaticKeys(pairs...)
	if err != nil {
		return nil, err
	}
	// Key pairs get the policy of their environment: the presets, with
	// -rate replacing the demo environment's.
	envs := ratelimit.Presets()
	envs[string(env)] = policy
	lim, err := ratelimit.New(ratelimit.Config{
		Policy:       policy,
		Environments: envs,
		Store:        cfg.Store,
		Outage:       cfg.Outage,
		Logger:       cfg.Problem.Logger,
	})
	if err != nil {
		return nil, err
	}

	s := &service{orders: map[string]order{}}
	r := chi.NewRouter()
	r.Use(middleware.Stack(rd), chimw.GetHead)
	r.NotFound(middleware.NotFound)
	r.MethodNotAllowed(middleware.MethodNotAllowed)

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// The error reference: JSON, or Markdown by Accept, with examples in
	// the envelope in use; with FAULTLINE_TYPE_BASE_URI=https://host/errors a
	// problem type resolves to its entry.
	errorsRef, err := reference.New(reference.Config{Problem: cfg.Problem, Envelopes: []string{rd.Envelope().Name()}})
	if err != nil {
		return nil, err
	}
	errorsHandler, err := errorsRef.Handler("/errors")
	if err != nil {
		return nil, err
	}
	r.Handle("/errors", errorsHandler)
	r.Handle("/errors/*", errorsHandler)
	r.Route("/v1", func(r chi.Router) {
		r.Use(middleware.Maintenance(middleware.NewSwitch(cfg.Maintenance), 0),
			middleware.KeyAuth(authn))
		// Every request meets one middleware of the limiter, so it is one
		// store call: Route decides the key pair's policy and its own
		// together, and Handler the key pair's everywhere else, unknown
		// paths and methods under /v1 included.
		r.With(lim.Route("reports", reportsPolicy)).Get("/reports", s.reports)
		r.Group(func(r chi.Router) {
			r.Use(lim.Handler)
			r.Get("/accounts/{id}", middleware.Handle(s.getAccount))
			r.Post("/orders", middleware.Handle(s.createOrder))
			r.Get("/panic", s.panics)
			r.Get("/fail", middleware.Handle(s.fails))
			r.With(middleware.Timeout(slowTimeout)).Get("/slow", middleware.Handle(s.slow))
			r.NotFound(middleware.NotFound)
			r.MethodNotAllowed(middleware.MethodNotAllowed)
		})
	})
	return &server{Handler: r, limiter: lim}, nil
}

// maxOrders is how many orders the demo remembers by client_order_id: past
// it, each new order makes the demo forget the oldest one, so a client that
// never stops ordering cannot grow the demo's memory without bound.
const maxOrders = 10_000

// service is the demo's order book. Its zero value is not usable: orders
// must be a non-nil map.
type service struct {
	mu      sync.Mutex       // guards orders, keys, next and created
	orders  map[string]order // by client_order_id; at most maxOrders
	keys    []string         // the keys of orders, a ring of up to maxOrders
	next    int              // once keys is full, the index of the oldest key
	created int              // orders created so far
}

// remember records o under its client_order_id, forgetting the oldest
// order when maxOrders are held. It requires s.mu.
func (s *service) remember(o order) {
	if len(s.keys) < maxOrders {
		s.keys = append(s.keys, o.ClientOrderID)
	} else {
		delete(s.orders, s.keys[s.next])
		s.keys[s.next] = o.ClientOrderID
		s.next = (s.next + 1) % maxOrders
	}
	s.orders[o.ClientOrderID] = o
}

type order struct {
	ID            string  `json:"id"`
	ClientOrderID string  `json:"client_order_id,omitempty"`
	Symbol        string  `json:"symbol"`
	Quantity      float64 `json:"quantity"`
	Status        string  `json:"status"`
}

func (s *service) getAccount(w http.ResponseWriter, r *http.Request) error {
	if chi.URLParam(r, "id") != "acc_1" {
		return problem.New(catalog.NotFound, "Account not found.")
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"id": "acc_1", "name": "Demo account", "currency": "USD", "balance": "1000.00",
	})
	return nil
}

type orderRequest struct {
	ClientOrderID *string         `json:"client_order_id"`
	Symbol        *string         `json:"symbol"`
	Quantity      json.RawMessage `json:"quantity"`
}

func (s *service) createOrder(w http.ResponseWriter, r *http.Request) error {
	var req orderRequest
	if err := problem.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	var violations []problem.Violation
	symbol := ""
	if req.Symbol != nil {
		symbol = strings.TrimSpace(*req.Symbol)
	}
	if symbol == "" {
		violations = append(violations, problem.Violation{Field: "symbol", Reason: catalog.MissingField,
			Description: "Missing required field: symbol."})
	}
	qty, qerr := parseQuantity(req.Quantity)
	if qerr != nil {
		violations = append(violations, *qerr)
	}
	if len(violations) > 0 {
		return problem.Validation(violations...)
	}
	if qty > maxQuantity {
		return &problem.Error{
			Code:    catalog.FailedPrecondition,
			Message: "Quantity exceeds the maximum of 1000000 per order.",
			Violations: []problem.Violation{{Field: "quantity", Reason: catalog.FailedPrecondition,
				Description: "Quantity must not exceed 1000000."}},
		}
	}
	o := order{Symbol: symbol, Quantity: qty, Status: "accepted"}
	if req.ClientOrderID != nil {
		o.ClientOrderID = *req.ClientOrderID
	}
	s.mu.Lock()
	existing, dup := s.orders[o.ClientOrderID]
	if !dup {
		s.created++
		o.ID = fmt.Sprintf("ord_%d", s.created)
		if o.ClientOrderID != "" {
			s.remember(o)
		}
	}
	s.mu.Unlock()
	if dup {
		return problem.New(DuplicateOrder, "An order with this client_order_id already exists.").
			WithMeta("order_id", existing.ID)
	}
	w.Header().Set("Location", "/v1/orders/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
	return nil
}

// parseQuantity accepts a JSON number above zero.
func parseQuantity(raw json.RawMessage) (float64, *problem.Violation) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, &problem.Violation{Field: "quantity", Reason: catalog.MissingField,
			Description: "Missing required field: quantity."}
	}
	invalid := &problem.Violation{Field: "quantity", Reason: catalog.InvalidArgument,
		Description: "Invalid quantity. Must be a positive number."}
	var q float64
	if s[0] == '"' || json.Unmarshal(raw, &q) != nil || math.IsNaN(q) || math.IsInf(q, 0) || q <= 0 {
		return 0, invalid
	}
	return q, nil
}

func (s *service) reports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"key":     middleware.PrincipalFromContext(r.Context()).KeyID,
		"reports": []string{"daily-pnl", "positions"},
	})
}

func (s *service) panics(w http.ResponseWriter, r *http.Request) {
	panic("charge failed: gateway rejected api token sk_live_4eC39HqLyjWDarjtT1zdp7dc")
}

func (s *service) fails(w http.ResponseWriter, r *http.Request) error {
	return fmt.Errorf("load ledger: %w",
		errors.New("dial postgres://ledger:password=Hunter2-Secret@10.0.0.7:5432/ledger: connection refused"))
}

func (s *service) slow(w http.ResponseWriter, r *http.Request) error {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > maxSlowMS {
		return problem.Invalid("ms", "ms must be a whole number of milliseconds from 0 to 10000.")
	}
	time.Sleep(time.Duration(ms) * time.Millisecond) // deliberately ignores r.Context()
	writeJSON(w, http.StatusOK, map[string]int{"slept_ms": ms})
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
